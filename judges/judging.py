"""`moot judge RUN_DIR --judge JUDGE`: which pass over a finished run a judge name calls for.

`JUDGE` is a judge role of the run's spec (played again under a new name, `moot.judges.rejudging`),
`values` (the values judge of each message, `moot.judges.posthoc`), `arguments` (the argument
judges of long answers, `moot.judges.arguments`, specificity rated 1-5 as the consistency paper does)
or `arguments_claim_tree` (the same, specificity as the depth of a tree of claims). A judge role of
the spec comes first: a spec whose values judge is a role named `values` has that role played
again, with its own prompt and output, rather than the built-in values judge.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from moot.errors import UserError
from moot.graphs.executor import Executor
from moot.graphs.program import ProgressCallback
from moot.judges.arguments import ArgumentJudgingReport, judge_arguments_run
from moot.judges.posthoc import POSTHOC_JUDGES, JudgingReport, judge_run
from moot.judges.rejudging import check_judge_role, judge_role_run, judge_roles
from moot.trace.opening import read_manifest

ARGUMENTS_JUDGE = "arguments"
"""The judges that split free-text answers into arguments and judge each one."""
ARGUMENT_JUDGES = {ARGUMENTS_JUDGE: "judge", f"{ARGUMENTS_JUDGE}_claim_tree": "claim_tree"}
"""The argument judges by name, with the specificity judge each runs (`moot.judges.arguments.SPECIFICITY_JUDGES`)."""
BUILT_IN_JUDGES = (*POSTHOC_JUDGES, *ARGUMENT_JUDGES)
"""The judges `moot judge` runs over any run, besides its spec's judge roles."""


def judge_pass(
    run_dir: Path | str,
    judge: str = "values",
    *,
    model: str | None = None,
    name: str | None = None,
    values: Path | str | None = None,
    cache_path: Path | None = None,
    concurrency: int = 4,
    executor: Executor | None = None,
    trace: str | None = None,
    ledger: Path | None = None,
    progress: ProgressCallback | None = None,
) -> JudgingReport | ArgumentJudgingReport:
    """Run judge `judge` over every message (or round) of a finished run and append its decisions to its trace.

    `model` is the judge's model (default: the role's agent's, else the run's default model); `name`
    the name its decisions carry (a judge role's default `ROLE_MODEL`, the values judge's
    `values_judge`; the argument judges keep their three names); `values` the value list of the
    values or argument judges. The rest are as for `moot.judges.posthoc.judge_run`.
    """
    run_dir = Path(run_dir)
    options: dict[str, Any] = {
        "cache_path": cache_path,
        "concurrency": concurrency,
        "executor": executor,
        "trace": trace,
        "ledger": ledger,
        "progress": progress,
    }
    spec = read_manifest(run_dir).spec
    if judge not in BUILT_IN_JUDGES:
        check_judge_role(spec, judge, BUILT_IN_JUDGES)  # neither a judge role of the spec nor a built-in judge: refused
    if judge in judge_roles(spec):
        if values is not None:
            raise UserError(
                f"--values is the value list of the values and arguments judges; judge role '{judge}' of the run's"
                " spec answers with its own output"
            )
        return judge_role_run(run_dir, judge, model=model, name=name, built_in=BUILT_IN_JUDGES, **options)
    if judge in ARGUMENT_JUDGES:
        if name is not None:
            raise UserError(f"--name does not apply to --judge {judge}: its judges keep their names")
        return judge_arguments_run(
            run_dir, model=model, vocabulary=values, specificity=ARGUMENT_JUDGES[judge], **options
        )
    taxonomy = None if values is None else str(values)
    return judge_run(run_dir, judge, model=model, taxonomy=taxonomy, agent_name=name, **options)
