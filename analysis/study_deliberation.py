"""The deliberation study from a trace: every measurement, its tables and its plots.

`analyze_deliberation` reads the events of a run of an AITA debate protocol (solo, synchronous
or round-robin, any number of debaters) and writes what the study reports: consensus and rounds,
verdict changes, verdict distributions (with a solo baseline when one is given), values invoked
and their similarity, inherited values, the inertia and conformity model, and ratings.

Conversations are placed by their arm (`moot.analysis.arms`): rates are given per speaking
order, position, player and line-up wherever those vary (`deliberation_seats`), players are
rated over every arm at once, and a solo baseline is matched model by model (`solo_baseline`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from moot.analysis import deliberation as measures
from moot.analysis.analyze import AnalysisInputs
from moot.analysis.arms import ORDER, REPEAT, ArmTable, conversation_arms, pooled_note
from moot.analysis.debates import DebateRecord, debate_records_events
from moot.analysis.deliberation import Rate
from moot.analysis.deliberation_seats import (
    Seat,
    breakdown_rows,
    consensus_breakdowns,
    debate_seats,
    final_verdicts_seats,
    seat_breakdowns,
    value_occurrence_seats,
    verdict_change_outcomes,
)
from moot.analysis.inertia_outputs import inertia_outputs
from moot.analysis.methods import MethodOptions
from moot.analysis.outputs import AnalysisWriter
from moot.analysis.plot_style import interval_text
from moot.analysis.plots import plot_bars, plot_grouped_bars
from moot.analysis.ratings import (
    elo_matches,
    elo_matches_shuffled,
    influence_graph,
    plot_influence_graph,
    trueskill_ranked_games,
)
from moot.analysis.solo_baseline import (
    round_1_by_model,
    solo_agreement,
    solo_agreement_by_repeat,
    solo_answers,
    solo_by_model,
    solo_verdicts,
)
from moot.analysis.value_shares import share_rows, similarity_by_pairing, value_shares_debates
from moot.protocols.outputs.schema import VERDICTS
from moot.protocols.values.taxonomy import ValueTaxonomy, load_value_taxonomy
from moot.trace.events import Event

ELO_K = 32.0
"""Elo's K by default (`--method elo_k=K`): the deliberation paper (app. M) picks a K for many matches whose order
does not matter, but its value is not legible in the version cited, so moot keeps the common 32."""


def verdict_labels(spec: dict[str, Any]) -> list[str]:
    """The verdicts the run's speakers could give: the enum of their `verdict` field, else the five AITA verdicts."""
    for role in spec.get("roles", {}).values():
        output = role.get("output")
        if isinstance(output, dict):
            enum = output.get("properties", {}).get("verdict", {}).get("enum")
            if enum:
                return [str(v) for v in enum]
    return list(VERDICTS)


def judge_taxonomy(spec: dict[str, Any]) -> ValueTaxonomy:
    """The value list a run's value judge used (`values` or `values:FILE` output), else the bundled one."""
    for role in spec.get("roles", {}).values():
        output = role.get("output")
        if isinstance(output, str) and output.split(":", 1)[0] == "values":
            return load_value_taxonomy(output.partition(":")[2] or None)
    return load_value_taxonomy()


def analyze_deliberation(
    events: Sequence[Event],
    spec: dict[str, Any],
    writer: AnalysisWriter,
    *,
    taxonomy: ValueTaxonomy,
    baseline: Sequence[Event] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    arms: ArmTable | None = None,
    baseline_arms: ArmTable | None = None,
    methods: MethodOptions | None = None,
) -> dict[str, Any]:
    """Compute every deliberation measurement; write tables and plots through `writer`; return the metrics.

    `arms` places each conversation in its arm (default: read from `events`); `baseline_arms` the
    baseline's (default: read from `baseline`); `methods` the method options (`--method`: `elo_k`, Elo's K, and the
    inertia model's `inertia_*`; default: every default)."""
    methods = methods if methods is not None else MethodOptions()
    elo_k = methods.number("elo_k", ELO_K, minimum=1)  # read first: a wrong value is refused before anything is written
    records = debate_records_events(events)
    table = arms if arms is not None else conversation_arms(events, spec)
    seats = debate_seats(records, table)
    verdicts = verdict_labels(spec)
    done = measures.completed(records)
    no_consensus = measures.no_consensus_debates(records)
    metrics: dict[str, Any] = {
        "conversations": {"total": len(records), "completed": len(done), "failed": len(records) - len(done)},
        "agents": sorted({a for r in records for a in r.order}),
        "consensus": measures.consensus_debates(records) | consensus_breakdowns(records, seats, table),
        "verdict_changes": measures.verdict_changes_debates(records)
        | seat_breakdowns(verdict_change_outcomes(records, seats), table),
        "verdict_changes_no_consensus": measures.verdict_changes_debates(no_consensus)
        | seat_breakdowns(verdict_change_outcomes(no_consensus, seats), table),
        "verdicts": measures.verdict_distributions_debates(records, verdicts),
    }
    _debate_methods(writer)
    if baseline is not None:
        metrics["solo_baseline"] = measures.verdict_distributions_debates(debate_records_events(baseline), verdicts)
        solo_table = baseline_arms if baseline_arms is not None else conversation_arms(baseline)
        metrics.update(
            _solo_outputs(records, seats, table, debate_records_events(baseline), solo_table, verdicts, writer)
        )
    if table.compares() or table.varies(ORDER):
        metrics["verdicts"]["final_by_line_up"] = final_verdicts_seats(records, seats, verdicts)
        writer.table(
            "final_verdicts_by_line_up",
            [{"line_up": k, **counts} for k, counts in metrics["verdicts"]["final_by_line_up"].items()],
        )
    if table.compares() and "round_1_by_model" not in metrics:
        metrics["round_1_by_model"] = round_1_by_model(records, seats, verdicts)
    _order_note(records, table, writer)
    _verdict_outputs(metrics, records, verdicts, writer)
    _breakdown_outputs(metrics, writer)
    if table.compares():
        _line_up_columns(records, seats, writer)
    metrics["values"] = _value_outputs(records, seats, taxonomy, writer, n_boot, seed)
    if table.compares() and metrics["values"].get("occurrence"):
        metrics["values"]["occurrence_by_line_up"] = by_line_up = value_occurrence_seats(records, seats)
        writer.table(
            "value_occurrence_by_line_up",
            [
                {"line_up": line_up, "player": player, "value": value, "count": count}
                for line_up, players in by_line_up.items()
                for player, counts in players.items()
                for value, count in counts.items()
            ],
        )
    metrics["inertia_conformity"] = _inertia_outputs(events, verdicts, writer, table, n_boot, seed, methods)
    players = {cid: {seat.agent: seat.player for seat in mine} for cid, mine in seats.items()}
    metrics["ratings"] = _rating_outputs(records, writer, seed, players, elo_k)
    return metrics


def _debate_methods(writer: AnalysisWriter) -> None:
    """How the debate quantities the paper defines are computed, for metrics.json's `methods`."""
    writer.method(
        "consensus",
        "share of debates whose last round gives one parsed verdict, and rounds to consensus (paper sec. 4.1, fig. 2a)",
    )
    writer.method(
        "verdict_changes",
        "change of verdict: share of debates in which a debater's verdict in a later round differs from its round-1 "
        "verdict (paper sec. 4.1, fig. 2b)",
    )
    writer.method(
        "verdict_changes_no_consensus",
        "the change-of-verdict rate within the debates that end without consensus (paper sec. 4.6)",
    )
    writer.method(
        "verdicts", "verdict counts in round 1, in the last round and of the final verdicts (paper sec. 4.1, fig. 3)"
    )


def _order_note(records: list[DebateRecord], table: ArmTable, writer: AnalysisWriter) -> None:
    """Say when per-order figures cannot be given: every debate had the same speaking order."""
    debated = measures.debates(records)
    if debated and not table.varies(ORDER):
        writer.note(
            f"order effects: every debate has the speaking order {' > '.join(debated[0].order)}, so rates cannot "
            "be compared across orders or first speakers (run the protocol with `orders: permutations` for that)"
        )


def _breakdown_outputs(metrics: dict[str, Any], writer: AnalysisWriter) -> None:
    """The `rate_breakdowns` table (every rate per order, position, player, line-up, arm, repeat) and the plot of
    change-of-verdict rates per position."""
    rows = breakdown_rows("verdict_change", metrics["verdict_changes"])
    rows += breakdown_rows("verdict_change_no_consensus", metrics["verdict_changes_no_consensus"])
    rows += breakdown_rows("consensus", _consensus_as_rates(metrics["consensus"]))
    for when in ("round_1", "last_round"):
        if when in metrics.get("agreement_with_solo", {}):
            rows += breakdown_rows(f"agreement_with_solo_{when}", metrics["agreement_with_solo"][when])
    writer.table("rate_breakdowns", rows)
    changes = metrics["verdict_changes"]
    by_position = changes.get("by_player_position") or changes["by_agent_position"]
    positions = sorted({p for groups in by_position.values() for p in groups})
    if len(positions) > 1:
        plot_grouped_bars(
            {who: {p: rate["rate"] or 0.0 for p, rate in groups.items()} for who, groups in by_position.items()},
            positions,
            writer.plot_path("verdict_change_by_position"),
            title="Change-of-verdict rate by speaking position",
            ylabel="share of conversations",
        )


def _consensus_as_rates(consensus: dict[str, Any]) -> dict[str, Any]:
    """The consensus breakdowns with each group's consensus rate, in the shape `breakdown_rows` reads."""
    rates: dict[str, Any] = {"pooled": consensus.get("pooled", {})}
    for breakdown in ("by_first_speaker", "by_order", "by_line_up", "by_arm", "by_first_player"):
        if breakdown in consensus:
            rates[breakdown] = {group: v["consensus"] for group, v in consensus[breakdown].items()}
    if "across_repeats" in consensus:
        rates["across_repeats"] = {"all": consensus["across_repeats"]}
    return rates


def _line_up_columns(records: list[DebateRecord], seats: dict[str, list[Seat]], writer: AnalysisWriter) -> None:
    """The arm and line-up of every conversation, beside the `conversations` table."""
    writer.table(
        "conversation_line_ups",
        [
            {
                "conversation": r.conversation,
                "arm": seats[r.conversation][0].arm,
                "line_up": seats[r.conversation][0].line_up,
                "order": " > ".join(r.order),
                "repeat": r.repeat,
            }
            for r in records
            if r.conversation in seats
        ],
    )


def _solo_outputs(
    records: list[DebateRecord],
    seats: dict[str, list[Seat]],
    table: ArmTable,
    solo_records: list[DebateRecord],
    solo_table: ArmTable,
    verdicts: list[str],
    writer: AnalysisWriter,
) -> dict[str, Any]:
    """Solo verdicts per model and per solo repeat, round-1 verdicts per model and opponents, and how often each
    debater agrees with its own model's solo verdict."""
    answers = solo_answers(solo_records, solo_table)
    by_model = solo_by_model(answers, verdicts)
    debate_side = round_1_by_model(records, seats, verdicts)
    writer.table(
        "solo_versus_round_1",
        [
            {"model": model, "condition": against, **counts}
            for model, groups in debate_side.items()
            for against, counts in groups.items()
        ]
        + [
            {"model": model, "condition": f"solo repeat {repeat}", **counts}
            for model, solo in by_model.items()
            for repeat, counts in solo["by_repeat"].items()
        ],
    )
    agreement = solo_agreement(records, seats, solo_verdicts(answers))
    if agreement.without_solo_run:
        writer.note(
            "agreement with solo: no solo answer of "
            + ", ".join(agreement.without_solo_run)
            + " in the baseline run, so its debaters are left out"
        )
    if agreement.without_solo_verdict:
        writer.note(
            f"agreement with solo: {agreement.without_solo_verdict} debater(s) left out, their model's solo "
            "answers on the scenario tie or are unparsed"
        )
    result: dict[str, Any] = {}
    for when, outcomes in (("round_1", agreement.round_1), ("last_round", agreement.last_round)):
        by_model_rates: dict[str, list[bool]] = {}
        for seat, agrees in outcomes:
            by_model_rates.setdefault(seat.model, []).append(agrees)
        breakdowns = seat_breakdowns(outcomes, table)
        everything = pooled_note(table, [ORDER, *table.dimensions(), REPEAT])
        if everything:
            breakdowns["pooled"] |= {"overall": everything, "by_model": everything}
        result[when] = {
            "overall": Rate(sum(a for _, a in outcomes), len(outcomes)).as_dict(),
            "by_model": {m: Rate(sum(v), len(v)).as_dict() for m, v in sorted(by_model_rates.items())},
            **breakdowns,
        }
    per_repeat = solo_agreement_by_repeat(records, seats, answers)
    writer.table(
        "solo_agreement_round_1",
        [
            {"model": model, "against": against, "solo_repeat": repeat, **rate}
            for model, groups in per_repeat.items()
            for against, found in groups.items()
            for repeat, rate in found["by_repeat"].items()
        ],
    )
    writer.method(
        "solo_agreement_round_1",
        "per model, opponents and solo repeat: share of its debates whose round-1 verdict equals its verdict alone "
        "on the scenario in that repeat (paper app. C, table 6)",
    )
    result["without_solo_run"] = agreement.without_solo_run
    result["without_solo_verdict"] = agreement.without_solo_verdict
    return {
        "solo_by_model": by_model,
        "round_1_by_model": debate_side,
        "solo_agreement_round_1": per_repeat,
        "agreement_with_solo": result,
    }


def _verdict_outputs(
    metrics: dict[str, Any], records: list[DebateRecord], verdicts: list[str], writer: AnalysisWriter
) -> None:
    consensus = metrics["consensus"]
    writer.table(
        "conversations",
        [
            {
                "conversation": r.conversation,
                "scenario": r.scenario,
                "repeat": r.repeat,
                "order": " > ".join(r.order),
                "status": r.status,
                "rounds": r.rounds,
                "consensus": r.consensus,
                "final_verdict": r.final_verdict or "",
                "stop_reason": r.stop_reason,
                **{f"round_1_{a}": r.verdict_of(a, 1) or "" for a in r.order},
                **{f"last_{a}": r.verdict_of(a, r.rounds) or "" for a in r.order},
            }
            for r in records
        ],
    )
    if consensus["conversations"]:
        writer.table(
            "rounds_to_consensus",
            [{"rounds": k, "conversations": v} for k, v in consensus["rounds_to_consensus"].items()],
        )
        writer.table(
            "consensus_by_first_speaker",
            [{"first_speaker": k, **_flat(v)} for k, v in consensus["by_first_speaker"].items()],
        )
        if consensus["rounds_to_consensus"]:
            plot_bars(
                {f"{k}": float(v) for k, v in consensus["rounds_to_consensus"].items()},
                writer.plot_path("rounds_to_consensus"),
                title="Rounds to consensus",
                ylabel="conversations",
            )
    changes = metrics["verdict_changes"]
    writer.table(
        "verdict_changes",
        [{"group": "agent", "key": k, **v} for k, v in changes["by_agent"].items()]
        + [{"group": "position", "key": k, **v} for k, v in changes["by_position"].items()],
    )
    if changes["by_agent"]:
        plot_bars(
            {k: v["rate"] or 0.0 for k, v in changes["by_agent"].items()},
            writer.plot_path("verdict_change_rate"),
            title="Change-of-verdict rate per agent",
            ylabel="share of conversations",
        )
    distributions = metrics["verdicts"]
    rows = [
        {"when": when, "agent": agent, **counts}
        for when in ("round_1", "last_round")
        for agent, counts in distributions[when].items()
    ]
    rows.append({"when": "final", "agent": "(conversation)", **distributions["final"]})
    if "solo_baseline" in metrics:
        rows += [
            {"when": "solo_baseline", "agent": agent, **counts}
            for agent, counts in metrics["solo_baseline"]["round_1"].items()
        ]
    writer.table("verdict_distributions", rows)
    groups = {f"{agent} (round 1)": counts for agent, counts in distributions["round_1"].items()}
    groups["final verdict"] = distributions["final"]
    if "solo_baseline" in metrics:
        groups.update({f"{agent} (solo)": counts for agent, counts in metrics["solo_baseline"]["round_1"].items()})
    if any(sum(c.values()) for c in groups.values()):
        plot_grouped_bars(
            groups,
            [*verdicts, "unparsed", "none"],
            writer.plot_path("verdict_distributions"),
            title="Verdicts",
            ylabel="count",
        )


def _flat(rates: dict[str, Any]) -> dict[str, Any]:
    return {
        "conversations": rates["conversations"],
        "consensus_rate": rates["consensus"]["rate"],
        "no_consensus_rate": rates["no_consensus"]["rate"],
        "mean_rounds_to_consensus": rates["mean_rounds_to_consensus"],
    }


def _value_outputs(
    records: list[DebateRecord],
    seats: dict[str, list[Seat]],
    taxonomy: ValueTaxonomy,
    writer: AnalysisWriter,
    n_boot: int,
    seed: int,
) -> dict[str, Any]:
    judged = sum(len(by_agent) for r in records for by_agent in r.values.values())
    if not judged:
        writer.note("values: no message was tagged by a value judge (add one to the protocol or run `moot judge`)")
        return {"messages_judged": 0}
    kept = sum(len(values) for r in records for by_agent in r.values.values() for values in by_agent.values())
    if not kept:
        dropped = sum(r.dropped_values for r in records)
        writer.note(
            f"values: every value name the judge gave was dropped ({dropped} dropped over {judged} messages judged; "
            "none is on the value list), so there are no value measurements"
        )
        return {"messages_judged": judged, "dropped_unknown_values": dropped}
    occurrence = measures.value_occurrence_debates(records)
    similarity = measures.value_similarity_debates(records, taxonomy.cluster, n_boot=n_boot, seed=seed)
    inherited = measures.inherited_values_debates(records)
    by_pairing = similarity_by_pairing(records, seats, taxonomy.cluster, n_boot=n_boot, seed=seed)
    writer.method(
        "inherited_values",
        "after a change of verdict, values of the new message absent from the debater's round-1 set and used by "
        "another debater in an earlier round (paper sec. 4.2, fig. 4d-f)",
    )
    shares = value_shares_debates(records, seats)
    writer.table("value_shares", share_rows(shares))
    writer.method(
        "value_shares",
        "share of each player's judged messages that invoke the value, per pairing, and the difference between "
        "players (paper sec. 4.2, fig. 4a-c), with a two-sided Fisher exact test of each difference",
    )
    writer.table(
        "value_occurrence",
        [{"agent": a, "value": v, "count": c} for a, counts in occurrence.items() for v, c in counts.items()],
    )
    writer.table(
        "value_similarity",
        [
            {"measure": measure, "comparison": comparison, **ci}
            for measure, parts in similarity.items()
            for comparison, ci in [
                ("agreement", parts["agreement"]),
                ("disagreement", parts["disagreement"]),
                *((f"change:{k}", v) for k, v in parts["change_first_to_last"].items()),
                *(
                    (f"{when}:{group}", levels[when])
                    for group, levels in parts["levels"].items()
                    for when in ("round_1", "last_round")
                ),
            ]
        ],
    )
    writer.table(
        "value_similarity_tests",
        [
            {"measure": measure, "test": "mann_whitney_agreement_vs_disagreement", **parts["agreement_vs_disagreement"]}
            for measure, parts in similarity.items()
        ]
        + [
            {"measure": measure, "test": f"percent_change:{group}", "percent_change": levels["percent_change"]}
            for measure, parts in similarity.items()
            for group, levels in parts["levels"].items()
        ]
        + [
            {
                "pairing": pairing,
                "measure": measure,
                "test": "mann_whitney_agreement_vs_disagreement",
                **parts["agreement_vs_disagreement"],
            }
            for pairing, found in (by_pairing if len(by_pairing) > 1 else {}).items()
            for measure, parts in found.items()
        ],
    )
    writer.method(
        "value_similarity",
        "Jaccard of value sets (paper eq. 1; cluster-aware, eq. 3) in rounds of agreement vs disagreement, "
        "compared by a two-sided Mann-Whitney U over round pairs (sec. 4.2); round-1 and last-round levels and their "
        "percentage change in debates that disagreed first (tables 9, 10)",
    )
    writer.table(
        "inherited_values",
        [
            {
                "agent": a,
                "verdict_changes": v["verdict_changes"],
                **{f"with_inherited_{k}": x for k, x in v["with_inherited_values"].items()},
                "inherited": v["inherited"],
            }
            for a, v in inherited.items()
        ],
    )
    total: Counter[str] = Counter()
    for counts in occurrence.values():
        total.update(counts)
    if total:
        plot_bars(
            dict(total.most_common(15)),
            writer.plot_path("value_occurrence"),
            title="Most invoked values",
            ylabel="messages",
            horizontal=True,
        )
    parts = similarity["jaccard"]
    bars: dict[str, float] = {}
    errors: dict[str, tuple[float, float]] = {}
    sizes: dict[str, int] = {}
    for comparison, ci in (("agreement", parts["agreement"]), ("disagreement", parts["disagreement"])):
        mean, low, high = ci["mean"], ci["low"], ci["high"]
        if mean is not None and low is not None and high is not None:
            bars[comparison] = mean
            errors[comparison] = (low, high)
            sizes[comparison] = ci["conversations"]
    if bars:
        plot_bars(
            bars,
            writer.plot_path("value_similarity"),
            title="Jaccard similarity of value sets",
            ylabel="mean Jaccard",
            errors=errors,
            interval=interval_text("95% bootstrap interval (conversations resampled)", sizes),
        )
    return {
        "messages_judged": judged,
        "dropped_unknown_values": sum(r.dropped_values for r in records),
        "occurrence": occurrence,
        "shares": shares,
        **({"similarity_by_pairing": by_pairing} if len(by_pairing) > 1 else {}),
        "similarity": similarity,
        "inherited": inherited,
    }


def _inertia_outputs(
    events: Sequence[Event],
    verdicts: list[str],
    writer: AnalysisWriter,
    arms: ArmTable,
    n_boot: int,
    seed: int,
    methods: MethodOptions,
) -> dict[str, Any]:
    return inertia_outputs(events, verdicts, writer, arms, n_boot, seed, methods)


def _rating_outputs(
    records: list[DebateRecord], writer: AnalysisWriter, seed: int, players: dict[str, dict[str, str]], elo_k: float
) -> dict[str, Any]:
    """Elo (with K = `elo_k`), TrueSkill and influence, one rating per player over every arm (`players`:
    conversation -> agent -> player)."""
    result: dict[str, Any] = {}
    games = measures.elo_games_debates(records, players)
    if games:
        final = elo_matches(games, k=elo_k)
        spread = elo_matches_shuffled(games, n_orders=100, seed=seed, k=elo_k)
        writer.method(
            "elo",
            f"K = {elo_k:g}, from 1500, in match order; a win when only that debater's round-1 verdict became the "
            "consensus, else a draw (paper app. M); also averaged over 100 shuffled orders",
        )
        result["elo"] = {
            "k": elo_k,
            "games": len(games),
            "ratings": final,
            "over_orders": {k: {"mean": v.mean, "sd": v.sd} for k, v in spread.items()},
        }
        writer.table(
            "elo",
            [
                {"player": k, "elo": final[k], "mean_over_orders": spread[k].mean, "sd_over_orders": spread[k].sd}
                for k in sorted(final)
            ],
        )
    ranked = measures.ranked_games_debates(records, players)
    if ranked:
        skills = trueskill_ranked_games(ranked)
        result["trueskill"] = {
            "games": len(ranked),
            "ratings": {k: {"mu": s.mu, "sigma": s.sigma} for k, s in skills.items()},
        }
        writer.table("trueskill", [{"player": k, "mu": s.mu, "sigma": s.sigma} for k, s in sorted(skills.items())])
        plot_bars(
            {k: s.mu for k, s in skills.items()},
            writer.plot_path("trueskill"),
            title="TrueSkill (whose round-1 verdict prevailed)",
            ylabel="mu",
            errors={k: (s.mu - 2 * s.sigma, s.mu + 2 * s.sigma) for k, s in skills.items()},
            interval=interval_text("mu ± 2 sigma (TrueSkill)", len(ranked), "games"),
        )
    moves = measures.influence_moves_debates(records, players)
    if any(len(r.order) > 1 for r in records):
        graph = influence_graph(moves)
        for record in records:
            graph.add_nodes_from((players.get(record.conversation) or measures.player_names(record)).values())
        result["influence"] = {
            "moves": len(moves),
            "edges": [{"from": a, "to": b, "weight": d["weight"]} for a, b, d in graph.edges(data=True)],
        }
        writer.table("influence", result["influence"]["edges"])
        plot_influence_graph(graph, writer.plot_path("influence_graph"))
    return result


def analyze_deliberation_run(inputs: AnalysisInputs, writer: AnalysisWriter) -> dict[str, Any]:
    """The deliberation study's analysis of a run (with a solo `baseline` companion when given)."""
    baseline = inputs.companions.get("baseline")
    return analyze_deliberation(
        inputs.events,
        inputs.spec,
        writer,
        taxonomy=judge_taxonomy(inputs.spec),
        baseline=baseline,
        n_boot=inputs.n_boot,
        seed=inputs.seed,
        arms=inputs.arms,
        baseline_arms=conversation_arms(baseline, inputs.companion_specs.get("baseline")) if baseline else None,
        methods=inputs.methods,
    )
