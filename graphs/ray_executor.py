"""The Ray executor: the units of a run's work spread over the worker processes of a Ray cluster.

`moot run SPEC --executor ray [--address ADDR] [--workers N]` (and `moot judge`) joins the
cluster at ADDR, or starts one on this machine (loopback only, no dashboard, no usage reporting)
and stops it at the end. The units are a protocol's conversations, a judging pass's
conversations to judge, or an explorer's whole search (one unit: its steps follow one another).
The run is held by:

- **worker actors**, one per worker process (`--workers`, default: the cluster's CPUs), each
  holding one `SessionWorker` that writes to the run's trace (the run directory's SQLite
  file, which every worker must see, or a PostgreSQL database), and the program, sent as what
  builds it again. A worker process that dies is started again and the units it held are
  handed out again: a unit skips what had ended and goes on with the rest from where it stands
  (a conversation from its last complete round), so nothing is lost or written twice;
- **limiter actors**, one per hosted provider (OpenAI, Anthropic, OpenAI-compatible servers)
  whose limits the run can reach, holding that provider's `ProviderLimiter`: every request of
  every worker takes a slot from it, so `max_concurrency` and `requests_per_minute` hold across
  the cluster. Providers that run in the worker's own process (the embedded model, scripted and
  simulated agents) keep a limiter per process.

The driver (this process) keeps at most `concurrency` units in flight over the cluster and
hands each unit's final report to the session as it comes, so run.json and the progress bar move
as on one machine (a unit's reports while it runs are added to its final one). A unit lost for
good (its worker died more often than it may be restarted) ends the run with a one-line error;
the run directory can be resumed.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import socket
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from typing import TYPE_CHECKING, Any

from moot.errors import UserError

if TYPE_CHECKING:
    from moot.graphs.program import Program, ReportCallback, UnitReport, WorkUnit
    from moot.graphs.worker import SessionJob, SessionWorker

MISSING_RAY = "--executor ray needs Ray: pip install 'moot[ray]'"
MAX_RESTARTS = 3
"""How often a worker (or limiter) actor whose process died is started again."""
MAX_TASK_RETRIES = 3
"""How often a unit whose worker died is handed out again."""
CANCEL_GRACE_S = 10.0
"""How long a cancelled run waits for the units in flight to stop before their workers are killed."""
CLOSE_GRACE_S = 30.0
"""How long a finished run waits for its workers to close their clients and stores."""
FORWARDED_ENV = ("PGPASSWORD",)
"""Environment variables handed to the workers when set here (besides the providers' keys and URLs)."""
_LOOPBACK_ONLY_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
"""Ray's switch that, set to 0, binds a local cluster's servers to the loopback interface alone."""


def import_ray() -> Any:
    """The `ray` module, with usage reporting off; a UserError when Ray is not installed."""
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    try:
        import ray
    except ImportError:
        raise UserError(MISSING_RAY) from None
    return ray


def start_local_cluster(ray: Any, cpus: int) -> None:
    """Start a Ray cluster on this machine, reachable on the loopback interface only."""
    from ray._private import ray_constants

    saved_env = os.environ.get(_LOOPBACK_ONLY_ENV)
    saved_flag = getattr(ray_constants, "ENABLE_RAY_CLUSTER", True)
    # Ray reads the switch when it is imported (and its processes inherit it from this environment).
    os.environ[_LOOPBACK_ONLY_ENV] = "0"
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        ray.init(address="local", num_cpus=cpus, include_dashboard=False, log_to_driver=False, configure_logging=False)
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = saved_flag
        if saved_env is None:
            os.environ.pop(_LOOPBACK_ONLY_ENV, None)
        else:
            os.environ[_LOOPBACK_ONLY_ENV] = saved_env


def provider_limits(spec: Any, concurrency: int) -> dict[str, tuple[int, float | None]]:
    """(max requests in flight, requests per minute) of each remote provider the agents of the spec (of every arm of
    its matrix) use
    whose limits the run could reach (an in-process provider's limits hold in each worker).

    With `concurrency` conversations in flight, at most `concurrency` x agents requests are: a
    provider allowing that many, with no rate, needs no limiter shared by the workers (a slot
    taken from it costs a round trip to it per request).
    """
    from moot.agents.limits import ProviderLimiter
    from moot.agents.pool import ModelPool
    from moot.agents.registry import parse_model_name, provider_record

    limits: dict[str, tuple[int, float | None]] = {}

    def record(provider: str, concurrency: int, rpm: float | None) -> ProviderLimiter:
        limits[provider] = (concurrency, rpm)
        return ProviderLimiter(concurrency, rpm)

    pool = ModelPool(spec, None, limiters=record)
    for arm in pool.arms:
        for agent in arm.agents:
            provider = parse_model_name(arm.model_of(agent)).provider
            if not provider_record(provider).in_process:
                pool.limiter(provider)
    most_in_flight = concurrency * len(spec.agents)
    return {provider: (cap, rpm) for provider, (cap, rpm) in limits.items() if rpm is not None or cap < most_in_flight}


def worker_environment(spec: Any) -> dict[str, str]:
    """The variables of this environment the workers need: the providers' API keys and base URLs,
    PostgreSQL's password."""
    from moot.agents.registry import parse_model_name, provider_record
    from moot.protocols.matrix import arm_specs
    from moot.protocols.spec import ProviderSettings

    names = set(FORWARDED_ENV)
    for arm in arm_specs(spec):
        for agent in arm.agents:
            provider = parse_model_name(arm.model_of(agent)).provider
            endpoint = provider_record(provider).endpoint
            if endpoint is not None:
                names.add(endpoint.key_variable(arm.providers.get(provider) or ProviderSettings()))
                names.add(endpoint.base_url_env)
    return {name: os.environ[name] for name in sorted(names) if os.environ.get(name)}


class LimiterActor:
    """One provider's `ProviderLimiter`, held in an async actor and shared by every worker of the cluster.

    A slot is asked for with a ticket by a holder (one incarnation of one worker). A worker that
    starts again registers its new incarnation, which frees the slots of the old one; a ticket
    released before it was granted (the request was cancelled) is freed as soon as it is.
    """

    def __init__(self, max_concurrency: int, requests_per_minute: float | None) -> None:
        self.max_concurrency = max_concurrency
        self.requests_per_minute = requests_per_minute
        self._limiter: Any = None
        self._held: dict[str, tuple[tuple[int, str], AbstractAsyncContextManager[None]]] = {}
        self._dropped: set[str] = set()
        self._current: dict[int, str] = {}

    def _provider_limiter(self) -> Any:
        if self._limiter is None:  # built inside the actor's event loop
            from moot.agents.limits import ProviderLimiter

            self._limiter = ProviderLimiter(self.max_concurrency, self.requests_per_minute)
        return self._limiter

    async def register(self, worker: int, incarnation: str) -> None:
        """Make `incarnation` the live one of `worker`; free every slot its earlier ones held."""
        self._current[worker] = incarnation
        for ticket, ((holder_worker, holder), slot) in list(self._held.items()):
            if holder_worker == worker and holder != incarnation:
                del self._held[ticket]
                await slot.__aexit__(None, None, None)

    async def acquire(self, worker: int, incarnation: str, ticket: str) -> bool:
        """Wait for a slot (and the provider's rate); False when it was given up meanwhile."""
        slot = self._provider_limiter().slot()
        await slot.__aenter__()
        stale = self._current.get(worker, incarnation) != incarnation
        if ticket in self._dropped or stale:
            self._dropped.discard(ticket)
            await slot.__aexit__(None, None, None)
            return False
        self._held[ticket] = ((worker, incarnation), slot)
        return True

    async def release(self, worker: int, incarnation: str, ticket: str) -> None:
        """Free a slot (one not granted yet is freed when it is)."""
        entry = self._held.pop(ticket, None)
        if entry is None:
            self._dropped.add(ticket)
            return
        await entry[1].__aexit__(None, None, None)

    async def peak_in_flight(self) -> int:
        """The most requests that held a slot at once."""
        return self._provider_limiter().peak_in_flight


class ClusterLimiter:
    """A worker's view of a provider's `LimiterActor`: each slot is asked for and given back through it."""

    def __init__(self, actor: Any, worker: int, incarnation: str) -> None:
        self.actor = actor
        self.worker = worker
        self.incarnation = incarnation

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one of the provider's slots of the cluster for the duration of a request."""
        ticket = uuid.uuid4().hex
        try:
            await self.actor.acquire.remote(self.worker, self.incarnation, ticket)
        except BaseException:
            self.actor.release.remote(self.worker, self.incarnation, ticket)
            raise
        try:
            yield
        finally:
            # Not awaited: the slot is given back even when this task is being cancelled.
            self.actor.release.remote(self.worker, self.incarnation, ticket)


class WorkerActor:
    """One worker process of the run: a `SessionWorker` built in the actor's event loop, on first use."""

    def __init__(
        self, job: SessionJob, program: Program, index: int, limiter_names: dict[str, str], environment: dict[str, str]
    ) -> None:
        # Set before the worker opens its clients and store. (A `runtime_env` would do the same
        # but costs a fresh process per actor instead of one of Ray's idle ones.)
        os.environ.update(environment)
        self.job = job
        self.program = program
        self.index = index
        self.limiter_names = limiter_names
        """The name of each hosted provider's limiter actor (handles are looked up: actor arguments stay plain data)."""
        self.limiters: dict[str, Any] = {}
        self.incarnation = uuid.uuid4().hex
        self._worker: SessionWorker | None = None
        self._starting = asyncio.Lock()

    def _limiter(self, provider: str, concurrency: int, rpm: float | None) -> Any:
        if provider in self.limiters:
            return ClusterLimiter(self.limiters[provider], self.index, self.incarnation)
        from moot.agents.limits import ProviderLimiter

        return ProviderLimiter(concurrency, rpm)

    async def _ready(self) -> SessionWorker:
        async with self._starting:
            if self._worker is None:
                import ray

                from moot.graphs.worker import SessionWorker

                self.limiters = {provider: ray.get_actor(name) for provider, name in self.limiter_names.items()}
                await asyncio.gather(
                    *(actor.register.remote(self.index, self.incarnation) for actor in self.limiters.values())
                )
                self._worker = SessionWorker(self.job, self.program.roster, limiters=self._limiter)
        return self._worker

    async def run(self, unit: WorkUnit) -> UnitReport:
        """Run (or go on with, or skip) one unit; its final report, with the reports it sent while it ran added in.

        When an earlier attempt of this session had begun it (its worker died), the report also
        counts the calls that attempt recorded (nobody reported them).
        """
        from moot.graphs.worker import count_recorded_calls

        worker = await self._ready()
        since = self.job.since_seq
        if unit.conversations is None:
            earlier = [event for event in worker.store.events() if event.seq > since]
        else:
            earlier = [event for cid in unit.conversations for event in worker.store.events(cid) if event.seq > since]
        sent: list[UnitReport] = []
        final = await self.program.run_unit(unit, worker, sent.append)
        for report in sent:
            final.usage.merge(report.usage)
            for key, count in report.tally.items():
                final.tally[key] = final.tally.get(key, 0) + count
        if earlier:
            count_recorded_calls(final.usage, earlier, worker.prices)
        return final

    async def close(self) -> None:
        """Close the worker's clients, cache and trace store."""
        if self._worker is not None:
            await self._worker.close()
            self._worker = None


def _failure_line(exc: BaseException, ray: Any) -> str:
    """One line saying why a conversation's task failed."""
    if isinstance(exc, ray.exceptions.RayTaskError):
        cause = exc.cause if getattr(exc, "cause", None) is not None else exc
        text = str(cause).strip().splitlines()
        return f"{type(cause).__name__}: {text[0] if text else ''}".rstrip(": ")
    if isinstance(exc, ray.exceptions.RayActorError):
        return f"its worker process died and could not be started again (at most {MAX_RESTARTS} restarts)"
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


CLUSTER_PORTS = {"ray": 10001, "": 6379}
"""Default port of a cluster address, by scheme: Ray's client server (`ray://HEAD`) or its GCS (`HEAD`)."""

ANSWER_TIMEOUT_S = 5.0
"""How long the head of a cluster has to accept a connection before its address is refused."""


def check_cluster_address(address: str) -> None:
    """Refuse a cluster address nothing answers at, before anything is written (Ray itself waits for minutes)."""
    if address == "auto":
        return
    scheme, _, rest = address.rpartition("://")
    if scheme not in CLUSTER_PORTS:
        raise UserError(f"--address {address}: expected ray://HOST[:PORT], HOST:PORT or auto")
    host, _, port_text = rest.rpartition(":") if ":" in rest else (rest, "", "")
    try:
        port = int(port_text) if port_text else CLUSTER_PORTS[scheme]
    except ValueError:
        raise UserError(f"--address {address}: port '{port_text}' is not a number") from None
    try:
        socket.create_connection((host or "127.0.0.1", port), timeout=ANSWER_TIMEOUT_S).close()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UserError(
            f"--address {address}: no Ray cluster answers at {host or '127.0.0.1'}:{port} ({reason})"
        ) from None


class RayExecutor:
    """Runs units on the worker processes of a Ray cluster (joined at `address`, or started here)."""

    name = "ray"

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        # Found, not imported (importing Ray takes seconds): a missing Ray is said before anything is written.
        if importlib.util.find_spec("ray") is None:
            raise UserError(MISSING_RAY)
        if workers is not None and workers < 1:
            raise UserError(f"--workers must be at least 1 (got {workers})")
        if address is not None:
            check_cluster_address(address)
        self.address = address
        self.workers = workers
        self.actors: list[Any] = []
        """The worker actors of the run in progress (empty between runs)."""
        self.limiters: dict[str, Any] = {}
        """The limiter actor of each hosted provider of the run in progress."""

    def _connect(self, ray: Any) -> bool:
        """Join or start the cluster unless this process already is in one; True when this call connected."""
        if ray.is_initialized():
            return False
        if self.address:
            try:
                ray.init(address=self.address, log_to_driver=False, configure_logging=False)
            except (ConnectionError, ValueError, RuntimeError) as exc:
                raise UserError(
                    f"--address {self.address}: cannot join the Ray cluster ({str(exc).strip().splitlines()[0]})"
                ) from None
        else:
            start_local_cluster(ray, self.workers or os.cpu_count() or 1)
        return True

    async def run(
        self, job: SessionJob, program: Program, units: Sequence[WorkUnit], on_report: ReportCallback
    ) -> None:
        """Run every unit on the cluster's workers, at most `job.concurrency` at once, calling `on_report` here as each
        ends."""
        ray = import_ray()
        connected = self._connect(ray)
        try:
            self._start_actors(ray, job, program)
            await self._dispatch(ray, job, units, on_report)
        finally:
            for actor in [*self.actors, *self.limiters.values()]:
                with suppress(Exception):  # an actor already gone needs no killing
                    ray.kill(actor, no_restart=True)
            self.actors, self.limiters = [], {}
            if connected:
                ray.shutdown()

    def _start_actors(self, ray: Any, job: SessionJob, program: Program) -> None:
        spec = program.roster
        concurrency = job.concurrency
        cpus = float(ray.cluster_resources().get("CPU", 1))
        count = self.workers or max(1, int(cpus))
        options: dict[str, Any] = {"max_restarts": MAX_RESTARTS, "max_task_retries": MAX_TASK_RETRIES}
        token = uuid.uuid4().hex[:12]
        limits = provider_limits(spec, concurrency)
        names = {provider: f"moot-{job.run_id}-{token}-limiter-{provider}" for provider in limits}
        limiter_class = ray.remote(LimiterActor)
        self.limiters = {
            provider: limiter_class.options(
                name=names[provider], num_cpus=0, max_concurrency=max(1000, 4 * concurrency), **options
            ).remote(*limits[provider])
            for provider in limits
        }
        worker_class = ray.remote(WorkerActor)
        environment = worker_environment(spec)
        self.actors = [
            worker_class.options(
                num_cpus=min(1.0, cpus / count),
                max_concurrency=concurrency + 2,
                scheduling_strategy="SPREAD",
                **options,
            ).remote(job, program, index, names, environment)
            for index in range(count)
        ]

    async def _dispatch(self, ray: Any, job: SessionJob, units: Sequence[WorkUnit], on_report: ReportCallback) -> None:
        """Keep up to `job.concurrency` units in flight, each on the least busy worker."""
        waiting = list(reversed(units))
        load = [0] * len(self.actors)
        in_flight: dict[asyncio.Future[Any], tuple[WorkUnit, int, Any]] = {}

        def submit(unit: WorkUnit) -> None:
            index = min(range(len(load)), key=load.__getitem__)
            load[index] += 1
            ref = self.actors[index].run.remote(unit)
            in_flight[asyncio.wrap_future(ref.future())] = (unit, index, ref)

        try:
            while waiting or in_flight:
                while waiting and len(in_flight) < job.concurrency:
                    submit(waiting.pop())
                done, _ = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                for future in done:
                    unit, index, _ = in_flight.pop(future)
                    load[index] -= 1
                    try:
                        report = future.result()
                    except Exception as exc:  # any failure of a task ends the run, said in one line
                        what = f"conversation {unit.id}" if unit.conversations == (unit.id,) else f"unit '{unit.id}'"
                        raise UserError(
                            f"{what} was lost on the Ray cluster ({_failure_line(exc, ray)});"
                            f" finish the run with `moot run --resume {job.run_dir} --executor ray`"
                        ) from None
                    on_report(report)
            await self._close_workers()
        finally:
            if in_flight:
                await self._cancel(ray, in_flight)

    async def _cancel(self, ray: Any, in_flight: dict[asyncio.Future[Any], tuple[WorkUnit, int, Any]]) -> None:
        """Cancel the units in flight and wait (a while) for them to stop writing."""
        for _, _, ref in in_flight.values():
            ray.cancel(ref)
        await asyncio.wait(in_flight, timeout=CANCEL_GRACE_S)
        for future in in_flight:
            if future.done() and not future.cancelled():
                future.exception()  # retrieved, so that asyncio does not report it

    async def _close_workers(self) -> None:
        closing = [asyncio.wrap_future(actor.close.remote().future()) for actor in self.actors]
        done, _ = await asyncio.wait(closing, timeout=CLOSE_GRACE_S)
        for future in done:
            future.exception()
