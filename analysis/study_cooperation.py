"""The cooperation study from a trace: revealed value priorities from concessions, and stated ones from choices.

`analyze_cooperation` reads a run of the target-counterpart protocol (a judge decides each round
whether the target conceded) and writes Bradley-Terry rankings of the values (overall and per
cooperation type), concession matrices, rounds to concession, resistance, agreement across
repeats, counterparts and types, and, given other runs, stated vs revealed preference, value
adaptation and the judge's agreement with human labels. `analyze_stated` does the same ranking
for the one-shot binary-choice protocol.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from moot.analysis.agreement import (
    cohen_kappa_labels,
    f1_labels,
    kendall_tau_rankings,
    kendall_w_rankings,
)
from moot.analysis.analyze import AnalysisInputs
from moot.analysis.arms import MODEL_DIM, REPEAT, ArmTable, conversation_arms, pooled_note
from moot.analysis.concession import (
    BRADLEY_TERRY_METHODS,
    NEVER_CONCEDED_RULES,
    ConcessionMethods,
    ConcessionOutcome,
    concession_matrix_outcomes,
    plot_concession_heatmap,
    rank_improvement,
    resistance_ranking_outcomes,
)
from moot.analysis.cooperation_models import (
    cooperation_by_model,
    counterpart_concordance,
    rounds_by_type,
    rounds_to_concession,
)
from moot.analysis.cross_model import ModelGroups, comparison_units, unit_label
from moot.analysis.methods import MethodOptions
from moot.analysis.model_rankings import RankedItems, compare_models, rank_models, write_model_rankings
from moot.analysis.outputs import AnalysisWriter
from moot.analysis.plot_style import interval_text
from moot.analysis.plots import plot_bars
from moot.analysis.value_action import round_choices_events, value_action_by_type
from moot.analysis.value_rankings import PRIOR_OPTION, bootstrap_ranking, plain_ranking
from moot.errors import UserError
from moot.protocols.values.schwartz import SCHWARTZ_VALUES
from moot.safe_load import read_text
from moot.trace.events import (
    ConversationStarted,
    Event,
    JudgeDecision,
    MessageAdded,
    ModelCall,
    Stopped,
)
from moot.trace.reading import effective_events

COOPERATION_TYPES = ("reciprocal", "coopetitive", "altruistic")
T = TypeVar("T")


@dataclass(frozen=True)
class CooperationRecord:
    """One target-counterpart conversation with what the analysis needs."""

    outcome: ConcessionOutcome
    conversation: str
    base_scenario: str
    repeat: int
    target_model: str
    counterpart_model: str
    reason: str
    """The judge's reason in the round it decided a concession (or its last decision)."""


@dataclass(frozen=True)
class Choice:
    """One stated choice: the value whose option was chosen over the other's."""

    conversation: str
    base_scenario: str
    cooperation_type: str
    repeat: int
    chosen: str | None
    """The value favoured by the chosen option, None when unparsed."""
    other: str
    agent: str = ""
    """The chooser."""


def _metadata(start: ConversationStarted) -> dict[str, Any]:
    return (start.scenario or {}).get("metadata", {})


def _starts(events: Sequence[Event]) -> dict[str, ConversationStarted]:
    starts = {e.conversation_id: e for e in events if isinstance(e, ConversationStarted)}
    for start in starts.values():
        metadata = _metadata(start)
        if "target_value" not in metadata and "option_a_value" not in metadata:
            raise UserError(
                f"conversation {start.conversation_id}: its scenario carries no cooperation fields "
                "(target_value, counterpart_value); is this a cooperation run?"
            )
    return starts


def cooperation_records_events(events: Sequence[Event], judge_field: str = "conceded") -> list[CooperationRecord]:
    """One record per completed conversation of a cooperation run (events superseded by a resume left out)."""
    events = effective_events(events)
    starts = _starts(events)
    decisions: dict[str, list[JudgeDecision]] = defaultdict(list)
    models: dict[str, dict[str, str]] = defaultdict(dict)
    stops: dict[str, Stopped] = {}
    for event in events:
        if isinstance(event, JudgeDecision) and event.about is None:
            decisions[event.conversation_id].append(event)
        elif isinstance(event, ModelCall):
            models[event.conversation_id].setdefault(event.role, event.model)
        elif isinstance(event, Stopped):
            stops[event.conversation_id] = event
    records = []
    for cid, start in starts.items():
        stop = stops.get(cid)
        if stop is None or stop.status != "completed":
            continue
        meta = _metadata(start)
        parsed: list[tuple[JudgeDecision, bool]] = []
        for decision in decisions[cid]:
            verdict = (decision.decision or {}).get(judge_field)
            if isinstance(verdict, bool):
                parsed.append((decision, verdict))
        conceding = next((d for d, verdict in parsed if verdict), None)
        conceded = True if conceding else (False if parsed else None)
        deciding = conceding or (parsed[-1][0] if parsed else None)
        records.append(
            CooperationRecord(
                outcome=ConcessionOutcome(
                    scenario=cid,
                    cooperation_type=meta.get("cooperation_type", ""),
                    target_value=meta["target_value"],
                    counterpart_value=meta["counterpart_value"],
                    conceded=conceded,
                    rounds=conceding.round if conceding else stop.rounds,
                ),
                conversation=cid,
                base_scenario=str(meta.get("base_id", start.scenario_id)),
                repeat=start.repeat,
                target_model=models[cid].get("target", ""),
                counterpart_model=models[cid].get("counterpart", ""),
                reason=str((deciding.decision or {}).get("reason", "")) if deciding else "",
            )
        )
    return records


def stated_choices_events(events: Sequence[Event], field: str = "choice") -> list[Choice]:
    """One choice per completed conversation of a stated-preference run (option A or B mapped to its value)."""
    events = effective_events(events)
    starts = _starts(events)
    choices = []
    for event in events:
        if not isinstance(event, MessageAdded) or event.round != 1 or event.conversation_id not in starts:
            continue
        meta = _metadata(starts[event.conversation_id])
        label = str((event.parsed or {}).get(field, "")).strip().upper()
        a, b = meta["option_a_value"], meta["option_b_value"]
        chosen, other = (a, b) if label == "A" else (b, a) if label == "B" else (None, a)
        choices.append(
            Choice(
                event.conversation_id,
                str(meta.get("base_id", event.scenario_id)),
                meta.get("cooperation_type", ""),
                starts[event.conversation_id].repeat,
                chosen,
                other if chosen else b,
                event.agent or "",
            )
        )
    return choices


def _write_ranking(writer: AnalysisWriter, name: str, ranking: dict[str, Any], title: str) -> None:
    rows = [{"value": v, **ranking["values"][v]} for v in ranking["ranking"]]
    writer.table(name, rows)
    plot_bars(
        {v: ranking["values"][v]["log_strength"] for v in ranking["ranking"]},
        writer.plot_path(name),
        title=title,
        ylabel="log-strength",
        errors={v: (ranking["values"][v]["low"], ranking["values"][v]["high"]) for v in ranking["ranking"]},
        interval=interval_text("95% bootstrap interval (scenarios resampled)", ranking["comparisons"], "comparisons"),
    )


def _concordance(groups: dict[str, list[str] | None], label: str, writer: AnalysisWriter) -> dict[str, Any] | None:
    rankings = [r for r in groups.values() if r]
    if len(rankings) < 2:
        writer.note(f"Kendall's W across {label}: needs at least two {label} with comparisons (found {len(rankings)})")
        return None
    common = set(rankings[0]).intersection(*rankings[1:])
    if len(common) < 2:
        writer.note(f"Kendall's W across {label}: fewer than two values ranked in every group")
        return None
    w = kendall_w_rankings([[v for v in r if v in common] for r in rankings])
    return {
        "groups": [k for k, r in groups.items() if r],
        "values": len(common),
        "w": w.w,
        "chi_square": w.chi_square,
        "df": w.df,
        "p_value": w.p_value,
    }


def role_agent(spec: dict[str, Any], role: str) -> str:
    """The first agent of a role in the spec (the role's name when no agent has it)."""
    agents = [a.get("name") for a in spec.get("agents") or [] if isinstance(a, dict) and a.get("role") == role]
    return str(agents[0]) if agents and agents[0] else role


def _one_model_notes(writer: AnalysisWriter, unit: str, models: list[str], groups: ModelGroups | None) -> None:
    """What the comparison across models needs and a run of one model lacks."""
    found = f"this run has {len(models)}" + (f" ({models[0]})" if len(models) == 1 else "")
    writer.note(
        f"ranked first by N models, rank mean and sd across models, Kendall's W across models: need at least two "
        f"{unit}s, {found}"
    )
    if groups is not None:
        writer.note(f"--groups: Kendall's W within and tau between groups need several {unit}s, {found}")


def stated_by_model(
    stated: Sequence[Event], arms: ArmTable | None = None, *, prior: float = 0.0
) -> dict[str, list[str] | None]:
    """The stated ranking of each chooser model of a stated-preference run (its choosers pooled; `prior`
    pseudo-wins)."""
    arms = arms if arms is not None else conversation_arms(stated)
    by_model: dict[str, list[Choice]] = defaultdict(list)
    for choice in stated_choices_events(stated):
        entry = arms.get(choice.conversation)
        if entry is not None:
            by_model[entry.model_label(choice.agent)].append(choice)
    return {model: plain_ranking(*_choice_comparisons(choices), prior=prior) for model, choices in by_model.items()}


def _by(records: Sequence[T], key: Callable[[T], str]) -> dict[str, list[T]]:
    grouped: dict[str, list[T]] = defaultdict(list)
    for record in records:
        grouped[key(record)].append(record)
    return dict(grouped)


def analyze_cooperation(
    events: Sequence[Event],
    spec: dict[str, Any],
    writer: AnalysisWriter,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    stated: Sequence[Event] | None = None,
    unsteered: Sequence[Event] | None = None,
    labels: Path | None = None,
    arms: ArmTable | None = None,
    groups: ModelGroups | None = None,
    stated_arms: ArmTable | None = None,
    methods: ConcessionMethods | None = None,
) -> dict[str, Any]:
    """Every measurement of the cooperation study on one run (and, optionally, its companion runs).

    `methods` says how values are ranked (default: the paper's, Bradley-Terry on concessions only, no
    pseudo-wins); a value in no comparison is left out of a ranking (`unranked`).

    `arms` (default: read from the events) names each conversation's target and counterpart models and the cell it
    belongs to; with several target models each gets its own measurements and they are compared (`models`,
    `across_models`); `groups` names groups of models to compare within and between. `stated_arms` are the arms of
    the `stated` run (default: read from its events), whose choosers are matched to the target models by label.
    """
    arms = arms if arms is not None else conversation_arms(events, spec)
    methods = methods or ConcessionMethods()
    target, counterpart = role_agent(spec, "target"), role_agent(spec, "counterpart")
    records = [
        replace(r, target_model=entry.model_label(target), counterpart_model=entry.model_label(counterpart))
        if (entry := arms.get(r.conversation))
        else r
        for r in cooperation_records_events(events)
    ]
    outcomes = [r.outcome for r in records]
    n_boot = min(n_boot, 500)
    metrics: dict[str, Any] = {
        "conversations": len(records),
        "conceded": sum(o.conceded is True for o in outcomes),
        "held": sum(o.conceded is False for o in outcomes),
        "unparsed": sum(o.conceded is None for o in outcomes),
        "bradley_terry_prior": methods.prior,
        "pooled_over": pooled_note(arms, [*arms.dimensions(), REPEAT]),
    }
    winners, losers = methods.comparisons(outcomes)
    scenarios = [r.base_scenario for r in records if methods.comparisons([r.outcome])[0]]
    overall = bootstrap_ranking(
        winners, losers, scenarios, n_boot, seed, writer, "revealed ranking", prior=methods.prior
    )
    metrics["revealed"] = overall
    if overall:
        _write_ranking(writer, "revealed_ranking", overall, "Revealed value strengths (Bradley-Terry)")
    per_type: dict[str, Any] = {}
    for kind, group in sorted(_by(records, lambda r: r.outcome.cooperation_type).items()):
        type_winners, type_losers = methods.comparisons([r.outcome for r in group])
        ranking = bootstrap_ranking(
            type_winners,
            type_losers,
            [r.base_scenario for r in group if methods.comparisons([r.outcome])[0]],
            n_boot,
            seed,
            writer,
            f"revealed ranking, {kind}",
            prior=methods.prior,
        )
        if ranking:
            per_type[kind] = ranking
            writer.table(f"revealed_ranking_{kind}", [{"value": v, **ranking["values"][v]} for v in ranking["ranking"]])
    metrics["revealed_by_type"] = per_type

    matrix = concession_matrix_outcomes(outcomes, SCHWARTZ_VALUES)
    metrics["concession_matrix"] = {
        "values": list(SCHWARTZ_VALUES),
        "rate": _nan_to_none(matrix.rate.tolist()),
        "count": matrix.count.astype(int).tolist(),
    }
    writer.table("concession_matrix", _csv_dicts(matrix.csv_rows()))
    plot_concession_heatmap(
        matrix, writer.plot_path("concession_matrix"), title="Concession rate (row conceded to column)"
    )
    for kind, group in sorted(_by(records, lambda r: r.outcome.cooperation_type).items()):
        typed = concession_matrix_outcomes([r.outcome for r in group], SCHWARTZ_VALUES)
        metrics.setdefault("concession_matrix_by_type", {})[kind] = _nan_to_none(typed.rate.tolist())
        writer.table(f"concession_matrix_{kind}", _csv_dicts(typed.csv_rows()))
        plot_concession_heatmap(typed, writer.plot_path(f"concession_matrix_{kind}"), title=f"Concession rate, {kind}")

    rounds: dict[str, Any] = {
        "target_value": {
            k: rounds_to_concession(g, methods.never_conceded)
            for k, g in _by(records, lambda r: r.outcome.target_value).items()
        },
        "cooperation_type": {
            k: rounds_to_concession(g, methods.never_conceded)
            for k, g in sorted(_by(records, lambda r: r.outcome.cooperation_type).items())
        },
        "target_model": {
            k: rounds_by_type(g, methods.never_conceded) for k, g in _by(records, lambda r: r.target_model).items()
        },
    }
    metrics["rounds_to_concession"] = rounds
    writer.table("rounds_to_concession", _rounds_rows(rounds))
    resistance = resistance_ranking_outcomes(outcomes, SCHWARTZ_VALUES, max_rounds=int(spec.get("rounds", 5)))
    metrics["resistance"] = [
        {"value": r.value, "mean_rounds": r.mean_rounds, "outcomes": r.outcomes} for r in resistance
    ]
    writer.table("resistance", metrics["resistance"])
    ranked_resistance = [r.value for r in resistance if not math.isnan(r.mean_rounds)]
    if overall and len(ranked_resistance) >= 2:
        common = [v for v in overall["ranking"] if v in ranked_resistance]
        tau = kendall_tau_rankings(common, [v for v in ranked_resistance if v in common])
        metrics["resistance_vs_bradley_terry"] = {"tau": tau.tau, "p_value": tau.p_value, "n": tau.n}

    metrics["agreement"] = {
        "repeats": _concordance(
            {
                str(k): plain_ranking(*methods.comparisons([r.outcome for r in g]), prior=methods.prior)
                for k, g in _by(records, lambda r: str(r.repeat)).items()
            },
            "repeats",
            writer,
        ),
        "counterpart_models": _concordance(
            {
                k: plain_ranking(*methods.comparisons([r.outcome for r in g]), prior=methods.prior)
                for k, g in _by(records, lambda r: r.counterpart_model).items()
            },
            "counterpart models",
            writer,
        ),
        "cooperation_types": _concordance({k: v["ranking"] for k, v in per_type.items()}, "cooperation types", writer),
        "counterpart_models_repeats": counterpart_concordance(records, methods),
    }
    units = comparison_units(arms, [target], pooled=[MODEL_DIM + counterpart])
    records_by_model = _by([r for r in records if r.conversation in units], lambda r: units[r.conversation])
    max_rounds = int(spec.get("rounds", 5))
    if len(records_by_model) > 1:
        metrics.update(
            cooperation_by_model(
                records_by_model,
                writer,
                n_boot=n_boot,
                seed=seed,
                max_rounds=max_rounds,
                groups=groups,
                stated=stated_by_model(stated, stated_arms, prior=methods.prior) if stated is not None else None,
                pooled_over=pooled_note(arms, [MODEL_DIM + counterpart, REPEAT]),
                methods=methods,
            )
        )
    else:
        _one_model_notes(writer, "target model", list(records_by_model), groups)
    if stated is not None and overall:
        stated_ranking = plain_ranking(*_choice_comparisons(stated_choices_events(stated)), prior=methods.prior)
        if stated_ranking:
            common = [v for v in overall["ranking"] if v in stated_ranking]
            tau = kendall_tau_rankings(common, [v for v in stated_ranking if v in common])
            metrics["stated_vs_revealed"] = {
                "stated": stated_ranking,
                "revealed": overall["ranking"],
                "tau": tau.tau,
                "p_value": tau.p_value,
                "n": tau.n,
            }
    if unsteered is not None and overall:
        # R and R^ on the test split only (CoopValue appendix I): the few-shot examples' scenarios are held out
        held_out = few_shot_ids(spec, "target")
        kept = [r.outcome for r in records if r.base_scenario not in held_out]
        before = [r.outcome for r in cooperation_records_events(unsteered) if r.base_scenario not in held_out]
        metrics["adaptation"] = _adaptation(
            spec,
            "target",
            plain_ranking(*methods.comparisons(kept), prior=methods.prior) if held_out else overall["ranking"],
            plain_ranking(*methods.comparisons(before), prior=methods.prior),
            writer,
        )
        if metrics["adaptation"] is not None:
            metrics["adaptation"]["held_out"] = sorted(held_out)
    choices = round_choices_events(effective_events(events))
    if choices:
        metrics["value_action"] = value_action_by_type(choices)
        writer.method(
            "value_action",
            "share of rounds (with both parsed) where the target's binary choice after the round is the "
            "counterpart's course exactly when the judge saw a concession in it; gap = 1 - agreement (sec. 4.6)",
        )
    if labels is not None:
        metrics["judge_quality"] = judge_quality(records, labels)
    writer.table(
        "outcomes",
        [
            {
                "conversation": r.conversation,
                "scenario": r.base_scenario,
                "type": r.outcome.cooperation_type,
                "target_value": r.outcome.target_value,
                "counterpart_value": r.outcome.counterpart_value,
                "conceded": r.outcome.conceded,
                "rounds": r.outcome.rounds,
                "target_model": r.target_model,
                "counterpart_model": r.counterpart_model,
                "judge_reason": r.reason,
            }
            for r in records
        ],
    )
    return metrics


def adapt_value_of(spec: dict[str, Any], role: str) -> str | None:
    """The value a run steers toward: `adapt_value` in the variables of the first agent of `role` (where the
    bundled adaptation specs set it), else in the spec's top-level `variables`; None when neither sets it."""
    for agent in spec.get("agents") or []:
        if isinstance(agent, dict) and agent.get("role") == role:
            value = (agent.get("variables") or {}).get("adapt_value")
            if value:
                return str(value)
            break
    value = (spec.get("variables") or {}).get("adapt_value")
    return str(value) if value else None


def _rounds_rows(rounds: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per group of the rounds to concession (per model also per cooperation type)."""
    rows = []
    for group, table in rounds.items():
        for key, found in table.items():
            cells = [(key, "", found), *((key, kind, typed) for kind, typed in found.get("by_type", {}).items())]
            for name, kind, summary in cells:
                rows.append(
                    {
                        "group": group,
                        "key": name,
                        "cooperation_type": kind,
                        "mean": summary["mean"],
                        "sd": summary["sd"],
                        "count": summary["count"],
                        "conceded": summary["conceded"],
                        "repeat_mean": summary["by_repeat"]["mean"],
                        "repeat_sd": summary["by_repeat"]["sd"],
                        "repeats": summary["by_repeat"]["n"],
                    }
                )
    return rows


def few_shot_ids(spec: dict[str, Any], role: str) -> set[str]:
    """The base scenarios whose worked examples the first agent of `role` was shown (`few_shot_examples` in its
    variables): the training split, left out of the adaptation's rankings."""
    for agent in spec.get("agents") or []:
        if isinstance(agent, dict) and agent.get("role") == role:
            examples = (agent.get("variables") or {}).get("few_shot_examples") or []
            return {str(e["id"]) for e in examples if isinstance(e, dict) and "id" in e}
    return set()


def _adaptation(
    spec: dict[str, Any], role: str, after: list[str] | None, before: list[str] | None, writer: AnalysisWriter
) -> dict[str, Any] | None:
    value = adapt_value_of(spec, role)
    if not value or not before or not after:
        writer.note(
            f"value adaptation: needs a steered run (adapt_value in the {role}'s variables or the spec's) "
            "and an unsteered run with comparisons"
        )
        return None
    return {
        "value": value,
        "rank_before": before.index(value) + 1 if value in before else None,
        "rank_after": after.index(value) + 1 if value in after else None,
        "improvement": rank_improvement(before, after, value) if value in before and value in after else None,
    }


def _choice_comparisons(choices: Sequence[Choice]) -> tuple[list[str], list[str]]:
    """Chosen and rejected values of the parsed choices, as parallel winner and loser lists."""
    winners, losers = [], []
    for choice in choices:
        if choice.chosen is not None:
            winners.append(choice.chosen)
            losers.append(choice.other)
    return winners, losers


def analyze_stated(
    events: Sequence[Event],
    spec: dict[str, Any],
    writer: AnalysisWriter,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    unsteered: Sequence[Event] | None = None,
    arms: ArmTable | None = None,
    groups: ModelGroups | None = None,
    prior: float = 0.0,
) -> dict[str, Any]:
    """Stated value priorities from one-shot binary choices: Bradley-Terry over chosen vs rejected values.

    `prior` pseudo-wins of each value over each value it met are added (none by default, the paper's fit).

    With several choosers (agents) each gets its own ranking and Kendall's W across them; with several models
    (`arms`, default read from the events) each model gets its measurements and they are compared.
    """
    arms = arms if arms is not None else conversation_arms(events, spec)
    choices = stated_choices_events(events)
    winners, losers = _choice_comparisons(choices)
    parsed = [c for c in choices if c.chosen is not None]
    ranking = bootstrap_ranking(
        winners,
        losers,
        [c.base_scenario for c in parsed],
        min(n_boot, 500),
        seed,
        writer,
        "stated ranking",
        prior=prior,
    )
    metrics: dict[str, Any] = {
        "choices": len(choices),
        "unparsed": len(choices) - len(parsed),
        "bradley_terry_prior": prior,
        "stated": ranking,
    }
    if ranking:
        _write_ranking(writer, "stated_ranking", ranking, "Stated value strengths (Bradley-Terry)")
    per_type = {}
    for kind in COOPERATION_TYPES:
        per_type[kind] = plain_ranking(
            *_choice_comparisons([c for c in parsed if c.cooperation_type == kind]), prior=prior
        )
    metrics["stated_by_type"] = per_type
    metrics["agreement"] = {"cooperation_types": _concordance(per_type, "cooperation types", writer)}
    metrics.update(
        _stated_by_model(parsed, arms, writer, n_boot=min(n_boot, 500), seed=seed, groups=groups, prior=prior)
    )
    if unsteered is not None and ranking:
        metrics["adaptation"] = _adaptation(
            spec,
            "chooser",
            ranking["ranking"],
            plain_ranking(*_choice_comparisons(stated_choices_events(unsteered)), prior=prior),
            writer,
        )
    writer.table(
        "choices",
        [
            {
                "conversation": c.conversation,
                "scenario": c.base_scenario,
                "type": c.cooperation_type,
                "chosen": c.chosen or "",
                "over": c.other,
            }
            for c in choices
        ],
    )
    return metrics


STATED_CHOICES: RankedItems[Choice] = RankedItems(
    comparisons=_choice_comparisons,
    scenario_of=lambda c: c.base_scenario,
    repeat_of=lambda c: c.repeat,
    type_of=lambda c: c.cooperation_type,
)
"""How stated choices rank values: the chosen option's value wins over the other's."""


def _stated_by_model(
    parsed: Sequence[Choice],
    arms: ArmTable,
    writer: AnalysisWriter,
    *,
    n_boot: int,
    seed: int,
    groups: ModelGroups | None,
    prior: float,
) -> dict[str, Any]:
    """Each chooser's ranking and W across choosers (several in one run are not pooled into one); each model's
    measurements and the comparison across models."""
    choosers = list(dict.fromkeys(c.agent for c in parsed))
    dims = [d for d in arms.dimensions() if d not in {MODEL_DIM + a for a in choosers}]
    model_of = {
        (c.conversation, c.agent): unit_label(e, [c.agent], dims) for c in parsed if (e := arms.get(c.conversation))
    }
    result: dict[str, Any] = {
        "pooled_over": ", ".join(
            filter(None, [pooled_note(arms, [*arms.dimensions(), REPEAT]), "choosers" if len(choosers) > 1 else None])
        )
        or None
    }
    known = [c for c in parsed if (c.conversation, c.agent) in model_of]
    by_model = _by(known, lambda c: model_of[(c.conversation, c.agent)])
    by_chooser = _by(known, lambda c: f"{model_of[(c.conversation, c.agent)]} / {c.agent}")
    if len(choosers) > 1:
        result["by_chooser"] = {k: plain_ranking(*_choice_comparisons(g), prior=prior) for k, g in by_chooser.items()}
        result["agreement_choosers"] = _concordance(result["by_chooser"], "choosers", writer)
    if len(by_model) < 2:
        _one_model_notes(writer, "chooser model", list(by_model), groups)
        return result
    how = replace(STATED_CHOICES, prior=prior)
    ranked = rank_models(by_model, how, writer, n_boot=n_boot, seed=seed, label="stated ranking")
    for model, metrics in ranked.metrics.items():
        own = {k: r for k, r in result.get("by_chooser", {}).items() if k.startswith(f"{model} / ")}
        metrics["agreement"]["choosers"] = _concordance(own, f"choosers of {model}", writer) if len(own) > 1 else None
    write_model_rankings(writer, "stated_ranking_by_model", ranked)
    result["models"] = ranked.metrics
    result["across_models"] = compare_models(ranked, groups, writer, "stated ranking", "stated_ranking")
    return result


def judge_quality(records: Sequence[CooperationRecord], labels: Path) -> dict[str, Any]:
    """The judge's F1 and Cohen's kappa against human labels.

    The labels are a CSV with `conversation` (or `scenario` as `<id>:a`) and `conceded` (true/false).
    """
    if not labels.is_file():
        raise UserError(f"labels file '{labels}' not found")
    by_key = {r.conversation: r for r in records} | {f"{r.base_scenario}:{r.conversation}": r for r in records}
    truth, predicted = [], []
    reader = csv.DictReader(io.StringIO(read_text(labels), newline=""))
    try:
        if not reader.fieldnames or "conceded" not in reader.fieldnames or "conversation" not in reader.fieldnames:
            raise UserError(f"{labels}:1: expected the columns 'conversation' and 'conceded'")
        for row in reader:
            line = reader.line_num
            record = by_key.get((row["conversation"] or "").strip())
            value = (row["conceded"] or "").strip().lower()
            if value not in ("true", "false", "1", "0", "yes", "no"):
                raise UserError(f"{labels}:{line}: conceded must be true or false, got '{row['conceded'] or ''}'")
            if record is None or record.outcome.conceded is None:
                continue
            truth.append(value in ("true", "1", "yes"))
            predicted.append(record.outcome.conceded)
    except csv.Error as exc:
        raise UserError(f"{labels}:{reader.line_num}: malformed CSV ({exc})") from None
    if not truth:
        raise UserError(f"{labels}: no labelled conversation is in this run")
    scores = f1_labels(truth, predicted, positive=True)
    return {
        "labelled": len(truth),
        "f1": scores.f1,
        "precision": scores.precision,
        "recall": scores.recall,
        "kappa": cohen_kappa_labels(truth, predicted),
    }


def _csv_dicts(rows: list[list[str]]) -> list[dict[str, str]]:
    header, *body = rows
    return [dict(zip(header, row, strict=True)) for row in body]


def _nan_to_none(matrix: list[list[float]]) -> list[list[float | None]]:
    return [[None if isinstance(x, float) and math.isnan(x) else x for x in row] for row in matrix]


def cooperation_methods(options: MethodOptions) -> ConcessionMethods:
    """The cooperation study's method options: `bradley_terry` (concessions | holdouts_win) and
    `bradley_terry_prior` (pseudo-wins, default 0)."""
    return ConcessionMethods(
        bradley_terry=options.choice("bradley_terry", "concessions", BRADLEY_TERRY_METHODS),
        prior=options.number(PRIOR_OPTION, 0.0, minimum=0),
        never_conceded=options.choice("cooperation_rounds_never_conceded", "rounds_played", NEVER_CONCEDED_RULES),
    )


def _record_ranking_methods(writer: AnalysisWriter) -> None:
    writer.method(
        "bradley_terry_unranked",
        "a value in no comparison has no Bradley-Terry strength and is listed as unranked; with no pseudo-wins, "
        "a value that never lost (or never won) has no finite strength and the ranking is a note (sec. 3.3)",
    )


def analyze_cooperation_run(inputs: AnalysisInputs, writer: AnalysisWriter) -> dict[str, Any]:
    """The cooperation study's analysis of a run (companions: `stated`, `unsteered`; human `labels`)."""
    methods = cooperation_methods(inputs.methods)
    _record_ranking_methods(writer)
    writer.method(
        "rounds_to_concession",
        "per target value, cooperation type and target model (and model x type): mean and sd across conversations, "
        "and mean +- sd of the per-repeat means (sec. 4.3, Tables 3 and 14)",
    )
    return analyze_cooperation(
        inputs.events,
        inputs.spec,
        writer,
        n_boot=inputs.n_boot,
        seed=inputs.seed,
        stated=inputs.companions.get("stated"),
        unsteered=inputs.companions.get("unsteered"),
        labels=inputs.labels,
        arms=inputs.arms,
        groups=inputs.groups,
        stated_arms=(
            conversation_arms(inputs.companions["stated"], inputs.companion_specs.get("stated"))
            if "stated" in inputs.companions
            else None
        ),
        methods=methods,
    )


def analyze_stated_run(inputs: AnalysisInputs, writer: AnalysisWriter) -> dict[str, Any]:
    """The stated-preference analysis of a run (companion: `unsteered`)."""
    prior = inputs.methods.number(PRIOR_OPTION, 0.0, minimum=0)
    _record_ranking_methods(writer)
    writer.method(
        "agreement_choosers",
        "Kendall's W across the rankings of a run's choosers; with cooperation_stated_variants, across the five "
        "wordings of the question (CoopValue appendix H, Table 17)",
    )
    return analyze_stated(
        inputs.events,
        inputs.spec,
        writer,
        n_boot=inputs.n_boot,
        seed=inputs.seed,
        unsteered=inputs.companions.get("unsteered"),
        arms=inputs.arms,
        groups=inputs.groups,
        prior=prior,
    )
