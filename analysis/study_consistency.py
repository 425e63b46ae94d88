"""The consistency study from traces.

Do the values a model reveals in short choices match those its long answers put first?

`analyze_consistency_run` reads one run and dispatches on its form:

- a short-form run (`consistency_short`, `consistency_short_explicit`,
  `consistency_short_balanced`: speakers answer `Action 1` or `Action 2`): TrueSkill value
  preferences, their coarse groups, the agreement of repeats, the position bias (share of
  `Action 1` per chooser, and how often choosers shown the two orders choose the same action),
  and, with another short-form run as the `short` companion (e.g. implicit vs explicit values),
  the share of dilemmas with the same decision in both and the correlation of their mu;
- a long-form run (`consistency_long`, `consistency_opinion`) judged by
  `moot.judges.arguments`: position preferences for each k and overall, the agreement of
  temperature samples and of k values, the argument diversity and specificity of each value per k
  and per sample (`moot.analysis.consistency_attributes`) and their correlation with preference per
  k, and, with a short-form run as the `short` companion, the correlation of short and long
  preferences for each k.

Where a run has several choosers, or compares several models (a matrix, or runs put together),
each gets a value map of its own beside the pooled one, whose `pooled` note says what it pools;
correlations are then given per model and as mean and sd across models (`consistency_models`).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from moot.analysis import consistency as measures
from moot.analysis.analyze import AnalysisInputs
from moot.analysis.arms import ArmTable, conversation_arms
from moot.analysis.consistency_answers import (
    ACTIONS,
    LongAnswer,
    ShortChoice,
    long_answers_events,
    short_choices_events,
    short_preferences,
    swapped_agents,
)
from moot.analysis.consistency_attributes import attribute_outputs
from moot.analysis.consistency_models import (
    across_model_rows,
    across_models,
    by_model,
    long_model_maps,
    map_rows,
    short_maps,
    short_model_maps,
    versus_companion_by_model,
)
from moot.analysis.outputs import AnalysisWriter
from moot.analysis.plot_style import interval_text, save_figure
from moot.analysis.plots import PALETTE, plot_bars, plot_grouped_bars
from moot.scenarios.dilemmas import load_value_groups
from moot.trace.events import Event, MessageAdded

TOP_VALUES = 20
"""Values shown in preference plots."""
SPECIFICITY_OPTION = "consistency_specificity"
"""Method option: an argument's specificity is the judge's 1-5 rating (`judge`) or its claim tree's depth."""
SPECIFICITY_LABELS = {"judge": "judge's 1-5 rating", "claim_tree": "claim tree depth"}
"""What each specificity method measures, for plot titles."""
SHARED_VALUES_OPTION = "consistency_shared_values"
"""Method option: a value of both actions plays on both sides of a TrueSkill match (`keep`) or sits it out."""


def _k_order(label: str) -> tuple[int, float, str]:
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)


def _scatter(
    path: Path, pairs: dict[str, tuple[dict[str, float], dict[str, float]]], *, xlabel: str, ylabel: str, title: str
) -> Path:
    """One panel per named pair of preference maps: a point per shared value."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(pairs), figsize=(4.2 * len(pairs), 4.0), squeeze=False)
    for ax, (name, (first, second)), colour in zip(axes[0], pairs.items(), itertools.cycle(PALETTE)):
        shared = sorted(set(first) & set(second))
        ax.scatter([first[v] for v in shared], [second[v] for v in shared], color=colour, s=18)
        for value in shared:
            ax.annotate(value, (first[value], second[value]), fontsize=6, alpha=0.7)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.spines[["top", "right"]].set_visible(False)
    fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path)


def _top(preferences: dict[str, float], n: int = TOP_VALUES) -> dict[str, float]:
    return dict(sorted(preferences.items(), key=lambda item: -item[1])[:n])


def position_bias(choices: Sequence[ShortChoice]) -> dict[str, Any]:
    """How much the short answers follow the position of an action rather than the action.

    `choosers`: for each agent, its parsed answers, whether it was shown the actions swapped, and
    its share of `Action 1` as shown. `order_agreement` (when some choosers saw the given order and
    some the swapped one): over the pairs of one given-order and one swapped-order answer to the
    same dilemma in the same repeat, how many choose the same action of the dilemma. A chooser that
    always answers `Action 1` agrees with its swapped twin on no dilemma.
    """
    parsed = [c for c in choices if c.answer is not None]
    choosers: dict[str, dict[str, Any]] = {}
    for agent in sorted({c.agent for c in choices}):
        mine = [c for c in parsed if c.agent == agent]
        choosers[agent] = {
            "swapped": any(c.swapped for c in choices if c.agent == agent),
            "answers": len(mine),
            "action_1_share": (sum(c.answer == ACTIONS[0] for c in mine) / len(mine)) if mine else None,
        }
    bias: dict[str, Any] = {"choosers": choosers}
    if any(c.swapped for c in choices) and not all(c.swapped for c in choices):
        by_dilemma: dict[tuple[str, int], list[ShortChoice]] = {}
        for c in parsed:
            by_dilemma.setdefault((c.scenario, c.repeat), []).append(c)
        pairs = [(a, b) for group in by_dilemma.values() for a in group if not a.swapped for b in group if b.swapped]
        same = sum(a.action == b.action for a, b in pairs)
        bias["order_agreement"] = {
            "pairs": len(pairs),
            "same_action": same,
            "share": same / len(pairs) if pairs else None,
        }
    return bias


def analyze_short(
    events: Sequence[Event],
    writer: AnalysisWriter,
    groups: dict[str, str],
    companion: Sequence[Event] | None = None,
    *,
    swapped: frozenset[str] = frozenset(),
    companion_swapped: frozenset[str] = frozenset(),
    arms: ArmTable | None = None,
    companion_arms: ArmTable | None = None,
    keep_shared: bool = True,
) -> dict[str, Any]:
    """Short-form measurements of a run; write their tables and plots; return the metrics.

    `swapped` and `companion_swapped` name the agents of each run shown the actions swapped.
    `arms` and `companion_arms` place each conversation in its arm (default: read from the events):
    a value map is also given per chooser and per model, and the companion compared model by model.
    `keep_shared`: a value of both actions plays on both sides of its TrueSkill match (else it sits out).
    """
    choices = short_choices_events(events, swapped=swapped)
    parsed = [c for c in choices if c.action is not None]
    metrics: dict[str, Any] = {
        "form": "short",
        "choices": len(choices),
        "parsed": len(parsed),
        "action_1_share": (sum(c.answer == ACTIONS[0] for c in parsed) / len(parsed)) if parsed else None,
        "dilemma_action_1_share": (sum(c.action == ACTIONS[0] for c in parsed) / len(parsed)) if parsed else None,
    }
    if not parsed:
        writer.note("short form: no parsed choice, no preferences")
        return metrics
    bias = position_bias(choices)
    writer.method("position_bias", "share of Action 1 per chooser, same action in both orders (moot's check)")
    metrics["position_bias"] = bias
    writer.table(
        "position_bias",
        [{"chooser": agent, **row} for agent, row in bias["choosers"].items()]
        + (
            [
                {
                    "chooser": "given vs swapped order",
                    "pairs": bias["order_agreement"]["pairs"],
                    "same_action": bias["order_agreement"]["same_action"],
                    "same_action_share": bias["order_agreement"]["share"],
                }
            ]
            if "order_agreement" in bias
            else []
        ),
    )
    shares = {
        f'{agent}: "Action 1"': row["action_1_share"]
        for agent, row in bias["choosers"].items()
        if row["action_1_share"] is not None
    }
    if "order_agreement" in bias and bias["order_agreement"]["share"] is not None:
        shares["both orders: same action"] = bias["order_agreement"]["share"]
    plot_bars(
        shares,
        writer.plot_path("position_bias"),
        title="Short form: position bias",
        ylabel="share of answers",
        horizontal=True,
    )
    matches = [match for match in (c.match() for c in parsed) if match is not None]
    skills = measures.trueskill_value_choices(matches, keep_shared=keep_shared)
    preferences = {v: s.mu for v, s in skills.items()}
    writer.method(
        "trueskill",
        "TrueSkill mu of each value: the chosen action's values beat the other's, dilemma by dilemma"
        + (", a value of both actions on both sides" if keep_shared else ", a value of both actions sitting out")
        + " (paper sec. 2.2, app. A.1)",
    )
    metrics["trueskill"] = {
        v: {"mu": s.mu, "sigma": s.sigma, "group": groups.get(v, "other")}
        for v, s in sorted(skills.items(), key=lambda i: -i[1].mu)
    }
    writer.table(
        "short_preferences",
        [
            {"value": v, "group": groups.get(v, "other"), "mu": s.mu, "sigma": s.sigma}
            for v, s in sorted(skills.items(), key=lambda i: -i[1].mu)
        ],
    )
    writer.table(
        "short_choices",
        [
            {
                "conversation": c.conversation,
                "scenario": c.scenario,
                "repeat": c.repeat,
                "agent": c.agent,
                "swapped": c.swapped,
                "answer": c.answer or "",
                "action": c.action or "",
                "values_1": list(c.values[0]),
                "values_2": list(c.values[1]),
            }
            for c in choices
        ],
    )
    top = _top(preferences)
    plot_bars(
        top,
        writer.plot_path("short_preferences"),
        title="Short form: TrueSkill value preferences",
        ylabel="mu",
        horizontal=True,
        errors={v: (skills[v].mu - 2 * skills[v].sigma, skills[v].mu + 2 * skills[v].sigma) for v in top},
        interval=interval_text("mu ± 2 sigma (TrueSkill)", len(matches), "choices"),
    )
    writer.method("groups", "mean preference of the values of each of moot's coarse value groups (moot's summary)")
    metrics["groups"] = measures.group_means_preferences(preferences, groups)
    plot_bars(
        metrics["groups"],
        writer.plot_path("short_groups"),
        title="Short form: mean preference by value group",
        ylabel="mean mu",
    )
    repeats = sorted({c.repeat for c in parsed})
    if len(repeats) > 1:
        samples = [short_preferences([c for c in parsed if c.repeat == r], keep_shared=keep_shared) for r in repeats]
        metrics["sampling_consistency"] = {
            "samples": len(samples),
            "mean_pairwise_spearman": measures.mean_pairwise_spearman_preferences(samples),
        }
    table = arms if arms is not None else conversation_arms(events)
    metrics |= _short_maps_outputs(parsed, table, groups, writer, preferences, keep_shared)
    if companion is not None:
        companion_table = companion_arms if companion_arms is not None else conversation_arms(companion)
        theirs = short_choices_events(companion, swapped=companion_swapped)
        if table.compares():
            metrics |= _versus_companion_by_model(parsed, table, theirs, companion_table, writer, keep_shared)
        same = measures.same_decision_share(_decisions(parsed), _decisions(theirs))
        metrics["same_decision_versus_companion"] = same.as_dict()
        writer.method(
            "same_decision_versus_companion", "share of dilemmas with the same decision in both runs (paper app. B.4)"
        )
        writer.table(
            "same_decision_versus_companion", [{"comparison": "this run vs companion short run", **same.as_dict()}]
        )
        if not same.dilemmas:
            writer.note(
                "short vs companion: no dilemma answered by the same chooser in both runs, so no same-decision share"
            )
        other = short_preferences(theirs, keep_shared=keep_shared)
        correlation = measures.correlation_preferences(preferences, other)
        metrics["mu_correlation_versus_companion"] = correlation.as_dict()
        writer.method(
            "mu_correlation_versus_companion",
            "Pearson and Spearman correlation of the two runs' TrueSkill mu over shared values (a second figure)",
        )
        writer.table(
            "mu_correlation_versus_companion",
            [{"comparison": "this run vs companion short run", **correlation.as_dict()}],
        )
        _scatter(
            writer.plot_path("mu_versus_companion"),
            {"this run vs companion": (preferences, other)},
            xlabel="mu (this run)",
            ylabel="mu (companion)",
            title="Short form: two runs",
        )
    return metrics


def _short_maps_outputs(
    parsed: list[ShortChoice],
    table: ArmTable,
    groups: dict[str, str],
    writer: AnalysisWriter,
    preferences: dict[str, float],
    keep_shared: bool,
) -> dict[str, Any]:
    """Value maps per chooser and per model, their table and plot, and what the run's one map pools."""
    found = short_maps(parsed, table, groups, keep_shared=keep_shared)
    for kind, key in (("chooser", "by_chooser"), ("model", "by_model")):
        if key not in found:
            continue
        writer.table(f"short_preferences_by_{kind}", map_rows(found[key], kind))
        top = list(_top(preferences))
        plot_grouped_bars(
            {name: {v: m["trueskill"][v]["mu"] for v in top if v in m["trueskill"]} for name, m in found[key].items()},
            top,
            writer.plot_path(f"short_preferences_by_{kind}"),
            title=f"Short form: TrueSkill value preferences per {kind}",
            ylabel="mu",
        )
    return found


def _versus_companion_by_model(
    parsed: list[ShortChoice],
    table: ArmTable,
    theirs: list[ShortChoice],
    companion_table: ArmTable,
    writer: AnalysisWriter,
    keep_shared: bool,
) -> dict[str, Any]:
    """This run's map of each model against the companion run's map of the same model, and the mean across models."""
    mine = short_model_maps(parsed, table, keep_shared=keep_shared)
    other = short_model_maps([c for c in theirs if c.action is not None], companion_table, keep_shared=keep_shared)
    correlations, missing = versus_companion_by_model(mine, other)
    if missing:
        writer.note(f"short vs companion: the companion run has no choice of {', '.join(missing)}")
    summary = across_models({model: {"this run vs companion": c} for model, c in correlations.items()})
    writer.table("mu_correlation_versus_companion_by_model", [{"model": m, **c} for m, c in correlations.items()])
    if len(correlations) < 2:
        writer.note("short vs companion: fewer than two models in both runs, so no mean across models")
    theirs_by_model = by_model(theirs, companion_table, lambda c: c.conversation, lambda c: c.agent)
    same = {
        model: measures.same_decision_share(_decisions(mine_choices), _decisions(theirs_by_model[model])).as_dict()
        for model, mine_choices in sorted(by_model(parsed, table, lambda c: c.conversation, lambda c: c.agent).items())
        if model in theirs_by_model
    }
    writer.table("same_decision_versus_companion_by_model", [{"model": m, **found} for m, found in same.items()])
    return {
        "same_decision_versus_companion_by_model": same,
        "mu_correlation_versus_companion_by_model": correlations,
        "mu_correlation_versus_companion_across_models": summary.get("this run vs companion", {}),
    }


def _decisions(choices: Sequence[ShortChoice]) -> dict[tuple[str, int, str], str]:
    """The dilemma's action each parsed answer chose, by (dilemma, repeat, chooser)."""
    return {(c.scenario, c.repeat, c.agent): c.action for c in choices if c.action is not None}


def _correlation_rows(
    pairs: dict[str, tuple[dict[str, float], dict[str, float]]],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    results = {name: measures.correlation_preferences(a, b).as_dict() for name, (a, b) in pairs.items()}
    return results, [{"comparison": name, **result} for name, result in results.items()]


def analyze_long(
    events: Sequence[Event],
    spec: dict[str, Any],
    writer: AnalysisWriter,
    groups: dict[str, str],
    short: Sequence[Event] | None = None,
    *,
    short_swapped: frozenset[str] = frozenset(),
    arms: ArmTable | None = None,
    short_arms: ArmTable | None = None,
    keep_shared: bool = True,
    specificity_method: str = "judge",
) -> dict[str, Any]:
    """Long-form measurements of a judged run; write their tables and plots; return the metrics.

    `short_swapped` names the agents of the short run shown the actions swapped. `arms` and
    `short_arms` place each conversation in its arm (default: read from the events): when the run
    compares several models, every measurement is also given per model, and its correlations as
    mean and sd across models. `keep_shared` as for `analyze_short` (the short run's TrueSkill map).
    `specificity_method` reads each argument's specificity from the 1-5 rating judge (`judge`) or the
    claim tree's depth (`claim_tree`).
    """
    answers = long_answers_events(events, spec)
    answered = sum(isinstance(e, MessageAdded) for e in events)
    metrics: dict[str, Any] = {"form": "long", "answers": answered, "answers_split": len(answers)}
    if not answers:
        writer.note("long form: no answer was split into arguments; run `moot judge RUN_DIR --judge arguments` first")
        return metrics
    ks = sorted({a.k for a in answers}, key=_k_order)
    by_k = {k: [a for a in answers if a.k == k] for k in ks}
    metrics["arguments_per_answer"] = {k: sum(len(a.arguments) for a in part) / len(part) for k, part in by_k.items()}
    metrics["arguments_with_values"] = sum(bool(arg.values) for a in answers for arg in a.arguments)

    def prefs(part: Sequence[LongAnswer]) -> dict[str, float]:
        return measures.position_preferences_answers([[arg.values for arg in a.arguments] for a in part])

    overall = prefs(answers)
    per_k = {k: prefs(part) for k, part in by_k.items()}
    writer.method(
        "position_preferences",
        "minus the mean over answers of a value's first argument position / arguments, per k (paper sec. 2.3);"
        " `overall` pools the k",
    )
    metrics["position_preferences"] = {"overall": overall, **{f"k={k}": p for k, p in per_k.items()}}
    values = sorted(set(overall), key=lambda v: -overall[v])
    writer.table(
        "long_preferences",
        [
            {
                "value": v,
                "group": groups.get(v, "other"),
                "overall": overall[v],
                **{f"k={k}": per_k[k].get(v) for k in ks},
            }
            for v in values
        ],
    )
    if overall:
        plot_bars(
            _top(overall),
            writer.plot_path("long_preferences"),
            title="Long form: position preferences (all k)",
            ylabel="- mean relative first position",
            horizontal=True,
        )

    sampling = {}
    for k, part in by_k.items():
        repeats = sorted({a.repeat for a in part})
        samples = [prefs([a for a in part if a.repeat == r]) for r in repeats]
        sampling[f"k={k}"] = {
            "samples": len(samples),
            "mean_pairwise_spearman": measures.mean_pairwise_spearman_preferences(samples),
        }
    writer.method(
        "sampling_consistency", "mean Spearman over every pair of temperature samples, per k (paper sec. 4.2)"
    )
    metrics["sampling_consistency"] = sampling
    writer.table("sampling_consistency", [{"k": k, **v} for k, v in sampling.items()])
    if len(ks) > 1:
        writer.method("between_k", "Pearson (and Spearman) correlation of two k's preferences (paper sec. 4.3)")
        metrics["between_k"], rows = _correlation_rows(
            {f"k={a} vs k={b}": (per_k[a], per_k[b]) for a, b in itertools.combinations(ks, 2)}
        )
        writer.table("between_k", rows)
        _scatter(
            writer.plot_path("between_k"),
            {f"k={a} vs k={b}": (per_k[a], per_k[b]) for a, b in itertools.combinations(ks, 2)},
            xlabel="preference (first k)",
            ylabel="preference (second k)",
            title="Long form: preferences across k",
        )

    short_prefs = (
        short_preferences(short_choices_events(short, swapped=short_swapped), keep_shared=keep_shared)
        if short is not None
        else None
    )
    if short_prefs is not None:
        pairs = {f"short vs long k={k}": (short_prefs, per_k[k]) for k in ks}
        pairs["short vs long (all k)"] = (short_prefs, overall)
        writer.method(
            "short_versus_long",
            "Pearson (and Spearman) correlation of short-form mu and long-form preference per k (paper sec. 4.1)",
        )
        metrics["short_versus_long"], rows = _correlation_rows(pairs)
        writer.table("short_versus_long", rows)
        _scatter(
            writer.plot_path("short_versus_long"),
            pairs,
            xlabel="short form: TrueSkill mu",
            ylabel="long form: position preference",
            title="Short vs long form",
        )
    else:
        writer.note("short vs long: no short-form run given (`moot analyze RUN_DIR --short SHORT_RUN_DIR`)")

    table = arms if arms is not None else conversation_arms(events, spec)
    if table.compares():
        short_by_model = None
        if short is not None:
            choices = short_choices_events(short, swapped=short_swapped)
            short_table = short_arms if short_arms is not None else conversation_arms(short)
            short_by_model = short_model_maps(
                [c for c in choices if c.action is not None], short_table, keep_shared=keep_shared
            )
        metrics |= _long_model_outputs(answers, table, ks, short_by_model, writer)

    arguments = [arg for a in answers for arg in a.arguments]
    if arguments and not any(arg.specificity(specificity_method) is not None for arg in arguments):
        judge = "arguments" if specificity_method == "judge" else "arguments_claim_tree"
        writer.note(
            f"specificity ({specificity_method}): no argument was judged so;"
            f" run `moot judge RUN_DIR --judge {judge}` first"
        )
    metrics |= attribute_outputs(answers, ks, specificity_method, per_k, short_prefs, groups, writer)

    group_series = {
        "long (all k)": measures.group_means_preferences(overall, groups),
        **{f"long k={k}": measures.group_means_preferences(p, groups) for k, p in per_k.items()},
    }
    writer.method("groups", "mean preference of the values of each of moot's coarse value groups (moot's summary)")
    metrics["groups"] = group_series
    categories = sorted({g for series in group_series.values() for g in series})
    if categories:
        plot_grouped_bars(
            group_series,
            categories,
            writer.plot_path("long_groups"),
            title="Long form: mean position preference by value group",
            ylabel="mean preference",
        )
    return metrics


def _long_model_outputs(
    answers: list[LongAnswer],
    table: ArmTable,
    ks: list[str],
    short: dict[str, dict[str, float]] | None,
    writer: AnalysisWriter,
) -> dict[str, Any]:
    """Long-form preferences and correlations per model, their mean and sd across models, and what the run's pooled
    figures pool."""
    per_model = long_model_maps(answers, table, ks, short)
    if short is not None:
        missing = sorted(set(per_model) - set(short))
        if missing:
            writer.note(f"short vs long: the short run has no choice of {', '.join(missing)}")
    summary = across_models({model: found["correlations"] for model, found in per_model.items()})
    writer.table(
        "long_preferences_by_model",
        [
            {
                "model": model,
                "value": value,
                **{name: prefs.get(value) for name, prefs in found["position_preferences"].items()},
            }
            for model, found in per_model.items()
            for value in found["position_preferences"]["overall"]
        ],
    )
    writer.table(
        "correlations_by_model",
        [
            {"model": model, "comparison": comparison, **correlation}
            for model, found in per_model.items()
            for comparison, correlation in found["correlations"].items()
        ],
    )
    if summary:
        writer.table("correlations_across_models", across_model_rows(summary))
    if len(per_model) < 2:
        writer.note("long form: one model, so no correlation is averaged across models")
    pooled = "pooled over models (" + ", ".join(per_model) + ")"
    return {
        "by_model": per_model,
        "correlations_across_models": summary,
        "pooled": {"position_preferences": pooled, "between_k": pooled, "short_versus_long": pooled},
    }


def analyze_consistency_run(inputs: AnalysisInputs, writer: AnalysisWriter) -> dict[str, Any]:
    """The consistency study's analysis of a short-form or long-form run (with a `short` companion run when given)."""
    groups = load_value_groups()
    events = inputs.events
    short_form = any(role.get("output") == "action_choice" for role in inputs.spec.get("roles", {}).values()) or any(
        isinstance(e, MessageAdded) and (e.parsed or {}).get("action") in ACTIONS for e in events
    )
    companion_swapped = swapped_agents(inputs.companion_specs.get("short") or {})
    # Paper app. A.1: the teams are the actions' value sets as given; "sit_out" drops a value of both actions.
    keep_shared = inputs.methods.choice(SHARED_VALUES_OPTION, "keep", ("keep", "sit_out")) == "keep"
    short = inputs.companions.get("short")
    short_arms = conversation_arms(short, inputs.companion_specs.get("short")) if short is not None else None
    if short_form:
        return analyze_short(
            events,
            writer,
            groups,
            short,
            swapped=swapped_agents(inputs.spec),
            companion_swapped=companion_swapped,
            arms=inputs.arms,
            companion_arms=short_arms,
            keep_shared=keep_shared,
        )
    return analyze_long(
        events,
        inputs.spec,
        writer,
        groups,
        short,
        short_swapped=companion_swapped,
        arms=inputs.arms,
        short_arms=short_arms,
        keep_shared=keep_shared,
        # Paper sec. 3.1: a judge rates each argument 1-5; "claim_tree" reads the depth of a judged tree of claims.
        specificity_method=inputs.methods.choice(SPECIFICITY_OPTION, "judge", tuple(SPECIFICITY_LABELS)),
    )
