"""PostgreSQL for the tests: a throwaway private server, and a fresh database per test.

The tests use `$MOOT_TEST_POSTGRES_URL` (a role that may create databases) when it is set, as
`.ci/run` does; otherwise a private server is started from the installed PostgreSQL binaries
(`initdb` into a temporary directory, trust authentication, listening on a free port of
127.0.0.1 only) and stopped when the session ends. PostgreSQL refuses to run as root, so as
root the server runs as the `postgres` user.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROLE = "moot"
"""The superuser role of a private server."""
SERVER_USER = "postgres"
"""The system user a private server runs as when the tests run as root."""
DEBIAN_BINARIES = "/usr/lib/postgresql"
"""Where Debian installs each PostgreSQL version's server binaries (not on PATH there)."""


def find_bindir() -> Path:
    """The directory of `initdb` and `pg_ctl`: on PATH, from `pg_config --bindir`, or Debian's newest version."""
    on_path = shutil.which("initdb"), shutil.which("pg_ctl")
    if all(on_path):
        return Path(on_path[0]).resolve().parent
    candidates = []
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=False).stdout.strip()
        if out:
            candidates.append(Path(out))

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", path.parent.name)) or (0,)

    candidates += sorted(Path(DEBIAN_BINARIES).glob("*/bin"), key=version, reverse=True)
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    raise RuntimeError(
        "the PostgreSQL trace tests need a server: set MOOT_TEST_POSTGRES_URL, or install PostgreSQL's"
        " server binaries (initdb, pg_ctl; Debian: apt-get install postgresql)"
    )


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateServer:
    """A PostgreSQL server of the test session's own, in a temporary directory."""

    def __init__(self) -> None:
        self.bindir = find_bindir()
        self.root = Path(tempfile.mkdtemp(prefix="moot-postgres-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam(SERVER_USER)
            except KeyError:
                raise RuntimeError(
                    f"running as root, a private PostgreSQL server needs the system user '{SERVER_USER}'"
                ) from None
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            self.as_user = ["runuser", "-u", SERVER_USER, "--"]
        self.url = f"postgresql://{ROLE}@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        done = subprocess.run([*self.as_user, *args], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.is_file() else ""
            raise RuntimeError(
                f"{' '.join(args[:2])} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}\n{tail}"
            )

    def start(self) -> PrivateServer:
        """Create the cluster and start the server (fsync off: the data is thrown away)."""
        self._run(
            str(self.bindir / "initdb"), "-D", str(self.data), "-U", ROLE, "-A", "trust", "-E", "UTF8", "--no-sync"
        )
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -F -c max_connections=50"
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.root / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )
        return self

    def stop(self) -> None:
        """Stop the server and remove its files."""
        try:
            if self.data.is_dir():
                self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def with_database(url: str, name: str) -> str:
    """The URL with its database replaced."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new empty database on the server (its URL), dropped afterwards with any connection left to it."""
    import psycopg

    name = f"moot_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(server_url, name)
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            # Client connections only: an autovacuum worker may be in the database too, and only a
            # superuser may end it (DROP DATABASE ends it by itself).
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
                (name,),
            )
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
