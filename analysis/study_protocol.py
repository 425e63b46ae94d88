"""The generic analysis of a run of any protocol: the `protocol` section of `moot analyze`.

Measured from the trace and the spec's output schemas alone, study or not:

- conversations by stop reason (share, interval) and rounds to stop (distribution, mean, by first speaker);
- for every enum and boolean field of every role: its distribution per agent and per round, its
  change rate per agent from one round to the next (and per position when speakers take turns),
  and, for speakers, agreement per round (share of conversations where every speaker gives the
  same value, and Fleiss' kappa across speakers); a judge's fields so read are its decisions over rounds;
- numeric fields summarised per agent and round; lists of enum members counted per agent;
- tokens, latency, cost, failures and unparsed replies per role and agent.

Tables are grouped by a list of keys (`group_keys`): agent, its model, round, and the run's
experiment dimensions (the arm dimensions that vary, in a matrix run or a comparison of runs; the
order and the agent's position in it when orders vary; the repeat when there are several), so a new
dimension joins the list rather than adding tables. Where arms vary, every measurement is also
given per arm (`by_arm`), and the pooled figures say what they pool (`arms.pooled`). Every rate has a
bootstrap interval over conversations; what cannot be measured, or is degenerate, is a note
(`Intervals`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from statistics import fmean, pstdev
from typing import Any

from moot.analysis.agreement import fleiss_kappa_labels
from moot.analysis.analyze import PROTOCOL_SECTION, AnalysisInputs
from moot.analysis.arms import ALL_ARMS, ORDER, REPEAT, ConversationArm, pooled_note
from moot.analysis.outputs import AnalysisWriter
from moot.analysis.plot_style import interval_text
from moot.analysis.plots import plot_bars, plot_grouped_bars
from moot.analysis.protocol_data import ConversationRecord, Reply, protocol_records, usage_rows
from moot.analysis.protocol_fields import OutputField, field_value, kinds_of, role_fields, value_label
from moot.analysis.protocol_rates import Intervals
from moot.trace.events import Event, ModelCall

BASE_KEYS = ("agent", "model", "round")
"""The keys every grouped table has."""


def group_keys(records: Sequence[ConversationRecord], ordered: bool, arm_dims: Sequence[str] = ()) -> list[str]:
    """The keys tables are grouped by: agent, model, round, then each experiment dimension that varies in the run.

    The arm dimensions that vary (`arm_dims`, `ArmTable.dimensions()`) come first; when speaking
    orders vary, the order joins the keys (it names the first speaker too), and so does the agent's
    position in it when speakers take turns (`ordered`); several repeats add the repeat.
    """
    keys = list(BASE_KEYS) + [dim for dim in arm_dims if dim not in BASE_KEYS]
    if len({r.order for r in records}) > 1:
        keys.extend(["order", "position"] if ordered else ["order"])
    if len({r.repeat for r in records}) > 1:
        keys.append("repeat")
    return keys


def _key_of(
    record: ConversationRecord, reply: Reply, keys: Sequence[str], arm: ConversationArm | None = None
) -> tuple[Any, ...]:
    """The levels of `keys` of one reply: its agent, model, round, order, repeat, position, and its arm's dimensions."""
    known = {
        "agent": reply.agent,
        "model": record.models.get(reply.agent, ""),
        "round": reply.round,
        "order": " > ".join(record.order),
        "repeat": record.repeat,
        "position": reply.position,
    }
    return tuple(known[k] if k in known else (arm.level(k) if arm else "") for k in keys)


def _ci_columns(measure: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    ci = measure.get("ci") or [None, None]
    return {f"{prefix}ci_low": ci[0], f"{prefix}ci_high": ci[1]}


def _errors(measures: dict[str, dict[str, Any]], value: str = "rate") -> dict[str, tuple[float, float]] | None:
    """Interval bounds per bar for `plot_bars`: a bar without an interval gets none drawn; None when no bar has one."""
    if not any(m["ci"] for m in measures.values()):
        return None
    return {k: tuple(m["ci"]) if m["ci"] else (m[value], m[value]) for k, m in measures.items()}


def _interval(measures: dict[str, dict[str, Any]], level: float) -> str:
    """What the intervals of `plot_bars` are, and over how many conversations."""
    sizes = {k: m["conversations"] for k, m in measures.items() if m.get("ci")}
    return interval_text(f"{level:.0%} bootstrap interval (conversations resampled)", sizes)


def _recorded_schemas(events: Iterable[Event]) -> dict[str, dict[str, Any]]:
    schemas: dict[str, dict[str, Any]] = {}
    for event in events:
        if isinstance(event, ModelCall) and event.output_schema and event.role not in schemas:
            schemas[event.role] = event.output_schema
    return schemas


class ProtocolAnalysis:
    """One generic analysis: the records, the fields, the writer, and the intervals with their notes."""

    def __init__(self, inputs: AnalysisInputs, writer: AnalysisWriter) -> None:
        self.spec = inputs.spec
        self.events = inputs.events
        self.manifest = inputs.manifest
        self.records = protocol_records(inputs.events)
        self.writer = writer
        self.ordered = self.spec.get("turns", "round_robin") == "round_robin"
        """Whether speakers take turns one after another, so that their position can matter."""
        self.arms = inputs.arms
        self.arm_dims = self.arms.dimensions()
        """The arm dimensions that vary (none in a run without a matrix)."""
        self.arm_labels = {
            cid: ", ".join(f"{dim}={entry.level(dim)}" for dim in self.arm_dims)
            for cid, entry in self.arms.conversations.items()
            if self.arm_dims
        }
        """Each conversation's arm as `dim=level, ...` over the varying arm dimensions (empty when none varies)."""
        self.run_manifests = inputs.run_manifests
        self.keys = group_keys(self.records, self.ordered, self.arm_dims)
        self.intervals = Intervals(inputs.n_boot, inputs.seed, run_conversations=len(self.records))
        self.fields, schema_notes = role_fields(self.spec.get("roles") or {}, _recorded_schemas(inputs.events))
        self.intervals.notes.extend(schema_notes)

    def run(self) -> dict[str, Any]:
        """Every measurement, tables and plots written; notes handed to the writer."""
        if self.intervals.run_note():
            self.intervals.notes.insert(0, str(self.intervals.run_note()))
        metrics: dict[str, Any] = {
            "group_keys": self.keys,
            **self.arms_section(),
            "stops": self.stops(),
            "rounds_to_stop": self.rounds_to_stop(),
            "fields": {},
            "numbers": {},
            "lists": {},
            "usage": self.usage(),
        }
        if not self.records:
            self.intervals.notes.append("the run has no conversation, so nothing is measured")
        for output in kinds_of(self.fields, "enum", "boolean"):
            metrics["fields"][output.label] = self.categorical(output)
        for output in kinds_of(self.fields, "number"):
            metrics["numbers"][output.label] = self.numeric(output)
        for output in kinds_of(self.fields, "list"):
            metrics["lists"][output.label] = self.listed(output)
        metrics["dropped_values"] = self.dropped_values()
        metrics["notes"] = list(self.intervals.notes)
        for note in self.intervals.notes:
            self.writer.note(f"{PROTOCOL_SECTION}: {note}")
        return metrics

    # --- arms ------------------------------------------------------------------------------------

    def arms_section(self) -> dict[str, Any]:
        """`arms` (dimensions, arms, what the pooled figures pool) when arms vary; nothing otherwise."""
        if not self.arm_dims:
            return {}
        pooled = pooled_note(self.arms, [*self.arm_dims, ORDER, REPEAT])
        self.intervals.notes.append(
            f"{len(self.arms.arms())} arms ({', '.join(self.arm_dims)}): each measurement is given per arm "
            f"(by_arm, and the arm columns of the tables); figures without an arm are {pooled}"
        )
        return {
            "arms": {
                "dimensions": self.arm_dims,
                "arms": list(dict.fromkeys(self.arm_label(record.id) for record in self.records)),
                "pooled": pooled,
            }
        }

    def arm_label(self, conversation_id: str) -> str:
        """The arm of a conversation, as `dim=level, ...` over the varying arm dimensions (`all` when none varies)."""
        return self.arm_labels.get(conversation_id, ALL_ARMS)

    def arm_columns(self, conversation_id: str) -> dict[str, str]:
        """The table columns of a conversation's arm: each varying arm dimension and its level."""
        entry = self.arms.get(conversation_id)
        return {dim: entry.level(dim) if entry else "" for dim in self.arm_dims}

    def plot_labels(self, by_arm: dict[str, Any]) -> dict[str, Any]:
        """Measures by arm keyed for a plot: each arm by its distinct levels alone (`openai:gpt-4.1` rather than
        `model.a=openai:gpt-4.1, model.b=openai:gpt-4.1`), unless two arms would then share a name."""
        short = {arm: ", ".join(dict.fromkeys(part.split("=", 1)[-1] for part in arm.split(", "))) for arm in by_arm}
        if len(set(short.values())) < len(short):
            return by_arm
        return {short[arm]: value for arm, value in by_arm.items()}

    def pooled_columns(self) -> dict[str, str]:
        """The arm columns of a table row pooled over the arms: `all` in each (none when arms do not vary)."""
        return dict.fromkeys(self.arm_dims, ALL_ARMS)

    def by_arm(self) -> dict[str, list[ConversationRecord]]:
        """The records of each arm, in order of first conversation (empty when arms do not vary)."""
        if not self.arm_dims:
            return {}
        groups: dict[str, list[ConversationRecord]] = {}
        for record in self.records:
            groups.setdefault(self.arm_label(record.id), []).append(record)
        return groups

    # --- how conversations end ---------------------------------------------------------------

    def stops(self) -> dict[str, Any]:
        """Conversations by stop reason: count, share and interval."""
        kinds = Counter(r.stop_kind for r in self.records)
        by_reason = {}
        for kind in sorted(kinds, key=lambda k: (-kinds[k], k)):
            share = self.intervals.rate(
                f"share of conversations stopped by '{kind}'", [[float(r.stop_kind == kind)] for r in self.records]
            )
            by_reason[kind] = {"count": kinds[kind], **share}
        rows = [
            {**self.pooled_columns(), "reason": k, "count": v["count"], "share": v["rate"], **_ci_columns(v)}
            for k, v in by_reason.items()
        ]
        per_arm: dict[str, dict[str, Any]] = {}
        for arm, records in self.by_arm().items():
            per_arm[arm] = {}
            for kind in sorted(kinds, key=lambda k: (-kinds[k], k)):
                share = self.intervals.rate(
                    f"share of conversations of arm {arm} stopped by '{kind}'",
                    [[float(r.stop_kind == kind)] for r in records],
                )
                per_arm[arm][kind] = {"count": sum(r.stop_kind == kind for r in records), **share}
                columns = self.arm_columns(records[0].id)
                rows.append({**columns, "reason": kind, "count": per_arm[arm][kind]["count"], "share": share["rate"]})
                rows[-1].update(_ci_columns(share))
        self.writer.table("protocol_stop_reasons", rows)
        if by_reason:
            plot_bars(
                {k: v["rate"] for k, v in by_reason.items()},
                self.writer.plot_path("protocol_stop_reasons"),
                title="Conversations by stop reason",
                ylabel="share of conversations",
                errors=_errors(by_reason),
                interval=_interval(by_reason, self.intervals.level),
            )
        completed = sum(r.status == "completed" for r in self.records)
        result: dict[str, Any] = {
            "conversations": len(self.records),
            "completed": completed,
            "failed": len(self.records) - completed,
            "by_reason": by_reason,
        }
        if per_arm:
            result["by_arm"] = per_arm
        return result

    def rounds_to_stop(self) -> dict[str, Any]:
        """Rounds played by completed conversations: distribution, mean with interval, and by first speaker."""
        done = [r for r in self.records if r.status == "completed"]
        distribution = Counter(r.rounds for r in done)
        mean = self.intervals.rate("mean rounds to stop", [[float(r.rounds)] for r in done])
        by_first: dict[str, list[int]] = defaultdict(list)
        for record in done:
            by_first[record.first_speaker].append(record.rounds)
        rows = [
            {**self.pooled_columns(), "first_speaker": first, "rounds": rounds, "conversations": count}
            for first, played in sorted(by_first.items())
            for rounds, count in sorted(Counter(played).items())
        ]
        per_arm: dict[str, Any] = {}
        for arm, records in self.by_arm().items():
            finished = [r for r in records if r.status == "completed"]
            arm_mean = self.intervals.rate(f"mean rounds to stop of arm {arm}", [[float(r.rounds)] for r in finished])
            per_arm[arm] = {"mean": arm_mean["rate"], "ci": arm_mean["ci"], "conversations": len(finished)}
            columns = self.arm_columns(records[0].id)
            arm_first: dict[str, list[int]] = defaultdict(list)
            for record in finished:
                arm_first[record.first_speaker].append(record.rounds)
            rows += [
                {**columns, "first_speaker": first, "rounds": rounds, "conversations": count}
                for first, played in sorted(arm_first.items())
                for rounds, count in sorted(Counter(played).items())
            ]
        self.writer.table("protocol_rounds_to_stop", rows)
        if distribution:
            plot_bars(
                {str(k): float(distribution[k]) for k in sorted(distribution)},
                self.writer.plot_path("protocol_rounds_to_stop"),
                title="Rounds to stop",
                ylabel="conversations",
            )
        return {
            "distribution": {str(k): distribution[k] for k in sorted(distribution)},
            "mean": mean["rate"],
            "ci": mean["ci"],
            "conversations": len(done),
            "by_first_speaker": {
                first: {"mean": fmean(played), "conversations": len(played)}
                for first, played in sorted(by_first.items())
            },
            **({"by_arm": per_arm} if per_arm else {}),
        }

    # --- fields ------------------------------------------------------------------------------

    def _replies(self, output: OutputField) -> list[tuple[ConversationRecord, Reply]]:
        return [(record, reply) for record in self.records for reply in record.replies_of(output.role)]

    def _values(self, output: OutputField) -> list[tuple[ConversationRecord, Reply, Any]]:
        """(record, reply, value) of every reply of the role that gives the field."""
        found = []
        for record, reply in self._replies(output):
            value = field_value(reply.parsed, output.path)
            if value is not None:
                found.append((record, reply, value))
        return found

    def _observed(self, output: OutputField, found: Sequence[Any], replies: int) -> bool:
        if found:
            return True
        if replies:
            self.intervals.notes.append(f"{output.label}: none of its {replies} replies gives a value, so not measured")
        else:
            self.intervals.notes.append(f"{output.label}: role '{output.role}' never answered, so not measured")
        return False

    def categorical(self, output: OutputField) -> dict[str, Any]:
        """Distribution per agent and round, change rate, agreement (speakers) of an enum or boolean field."""
        replies = self._replies(output)
        found = self._values(output)
        result: dict[str, Any] = {
            "kind": output.kind,
            "judge": output.judge,
            "values": [value_label(v) for v in output.values],
            "replies": len(replies),
            "observations": len(found),
            "unparsed": sum(reply.parsed is None for _, reply in replies),
        }
        if not self._observed(output, found, len(replies)):
            return result
        labels = [value_label(v) for v in output.values]
        labels += sorted({value_label(v) for _, _, v in found} - set(labels))
        result["by_agent"] = self._shares(found, lambda record, reply: reply.agent, labels)
        result["by_round"] = self._shares(found, lambda record, reply: str(reply.round), labels)
        if self.arm_dims:
            result["by_arm"] = self._shares(found, lambda record, reply: self.arm_label(record.id), labels)
            plot_grouped_bars(
                self.plot_labels(result["by_arm"]),
                labels,
                self.writer.plot_path(f"protocol_{output.slug}_by_arm"),
                title=f"{output.label} by arm",
                ylabel="share of replies",
            )
        result["final"] = dict(
            Counter(value_label(v) for record, reply, v in found if reply.round == record.rounds).most_common()
        )
        self._distribution_table(output, found, labels)
        plot_grouped_bars(
            result["by_agent"],
            labels,
            self.writer.plot_path(f"protocol_{output.slug}_by_agent"),
            title=f"{output.label} by agent",
            ylabel="share of replies",
        )
        plot_grouped_bars(
            {f"round {k}": v for k, v in result["by_round"].items()},
            labels,
            self.writer.plot_path(f"protocol_{output.slug}_by_round"),
            title=f"{output.label} {'decisions ' if output.judge else ''}over rounds",
            ylabel="share of replies",
        )
        if not (output.judge and any(reply.about for _, reply, _ in found)):
            result["change_rate"] = self.change_rate(output, found)
        if not output.judge:
            result["agreement"] = self.agreement(output, found)
        return result

    def _shares(self, found: Sequence[Any], key: Any, labels: Sequence[str]) -> dict[str, dict[str, float]]:
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for record, reply, value in found:
            counts[key(record, reply)][value_label(value)] += 1
        ordered = sorted(counts, key=lambda k: (len(k), k)) if all(k.isdigit() for k in counts) else list(counts)
        return {k: {label: counts[k][label] / sum(counts[k].values()) for label in labels} for k in ordered}

    def _distribution_table(self, output: OutputField, found: Sequence[Any], labels: Sequence[str]) -> None:
        counts: dict[tuple[Any, ...], Counter[str]] = defaultdict(Counter)
        for record, reply, value in found:
            counts[_key_of(record, reply, self.keys, self.arms.get(record.id))][value_label(value)] += 1
        rows = []
        for key in sorted(counts, key=lambda k: tuple(map(str, k))):
            total = sum(counts[key].values())
            for label in labels:
                rows.append(
                    {
                        **dict(zip(self.keys, key, strict=True)),
                        "value": label,
                        "count": counts[key][label],
                        "share": counts[key][label] / total,
                    }
                )
        self.writer.table(f"protocol_{output.slug}_distribution", rows)

    def change_rate(self, output: OutputField, found: Sequence[Any]) -> dict[str, Any]:
        """Share of an agent's answers that differ from its answer in the round before, per agent (and position)."""
        by_turn: dict[tuple[str, str], dict[int, Any]] = defaultdict(dict)
        positions: dict[tuple[str, str], int] = {}
        for record, reply, value in found:
            by_turn[(record.id, reply.agent)][reply.round] = value
            positions[(record.id, reply.agent)] = reply.position
        changes: dict[tuple[str, str], list[float]] = {
            turn: [float(rounds[r] != rounds[r - 1]) for r in sorted(rounds) if r - 1 in rounds]
            for turn, rounds in by_turn.items()
        }
        if not any(changes.values()):
            self.intervals.notes.append(
                f"{output.label} change rate: no agent answered in two rounds in a row, so there is no change to count"
            )
            return {"all": None, "by_agent": {}}

        def grouped(select: Any) -> list[list[float]]:
            per_conversation: dict[str, list[float]] = defaultdict(list)
            for (cid, agent), seen in changes.items():
                if select(cid, agent):
                    per_conversation[cid].extend(seen)
            return list(per_conversation.values())

        what = f"{output.label} change rate"
        agents = list(dict.fromkeys(agent for _, agent in changes))
        result: dict[str, Any] = {
            "all": self.intervals.rate(what, grouped(lambda cid, agent: True)),
            "by_agent": {
                agent: self.intervals.rate(f"{what} of {agent}", grouped(lambda cid, a, agent=agent: a == agent))
                for agent in agents
            },
        }
        per_arm: dict[str, dict[str, Any]] = {}
        for arm in dict.fromkeys(self.arm_label(cid) for cid, _ in changes) if self.arm_dims else []:
            per_arm[arm] = {
                agent: self.intervals.rate(
                    f"{what} of {agent} in arm {arm}",
                    grouped(lambda cid, a, agent=agent, arm=arm: a == agent and self.arm_label(cid) == arm),
                )
                for agent in agents
                if any(a == agent and self.arm_label(cid) == arm for cid, a in changes)
            }
        if per_arm:
            result["by_arm"] = per_arm
        if self.ordered and not output.judge:
            result["by_position"] = {
                str(p): self.intervals.rate(
                    f"{what} at position {p}", grouped(lambda cid, a, p=p: positions[(cid, a)] == p)
                )
                for p in sorted(set(positions.values()))
            }
        models = {agent: ", ".join(sorted({r.models.get(agent, "") for r in self.records})) for agent in agents}
        rows = [
            {
                **self.pooled_columns(),
                "agent": agent,
                "model": models[agent],
                **{k: v for k, v in m.items() if k != "ci"},
                **_ci_columns(m),
            }
            for agent, m in result["by_agent"].items()
        ]
        for arm, measures in per_arm.items():
            cid = next(c for c, _ in changes if self.arm_label(c) == arm)
            for agent, m in measures.items():
                model = next((r.models.get(agent, "") for r in self.records if self.arm_label(r.id) == arm), "")
                rows.append(
                    {
                        **self.arm_columns(cid),
                        "agent": agent,
                        "model": model,
                        **{k: v for k, v in m.items() if k != "ci"},
                        **_ci_columns(m),
                    }
                )
        rows += [
            {**self.pooled_columns(), "position": int(p), **{k: v for k, v in m.items() if k != "ci"}, **_ci_columns(m)}
            for p, m in result.get("by_position", {}).items()
        ]
        self.writer.table(f"protocol_{output.slug}_change_rate", rows)
        rated = {a: m for a, m in result["by_agent"].items() if m["rate"] is not None}
        if rated:
            plot_bars(
                {a: m["rate"] for a, m in rated.items()},
                self.writer.plot_path(f"protocol_{output.slug}_change_rate"),
                title=f"{output.label}: change from the round before",
                ylabel="change rate",
                errors=_errors(rated),
                interval=_interval(rated, self.intervals.level),
                flat_note="no change",
            )
        return result

    def agreement(self, output: OutputField, found: Sequence[Any]) -> dict[str, Any]:
        """Per round: share of conversations where every speaker gives the same value, and Fleiss' kappa."""
        speakers = {reply.agent for _, reply, _ in found}
        if len(speakers) < 2:
            self.intervals.notes.append(
                f"{output.label} agreement: only one agent gives it ({', '.join(sorted(speakers))}), nothing to compare"
            )
            return {}
        by_round, rows = self._agreement_by_round(output, found)
        rows = [{**self.pooled_columns(), **row} for row in rows]
        result: dict[str, Any] = {"by_round": by_round}
        if self.arm_dims:
            result["by_arm"] = {}
            for arm in dict.fromkeys(self.arm_label(record.id) for record, _, _ in found):
                arm_found = [item for item in found if self.arm_label(item[0].id) == arm]
                result["by_arm"][arm], arm_rows = self._agreement_by_round(output, arm_found, arm)
                columns = self.arm_columns(arm_found[0][0].id)
                rows += [{**columns, **row} for row in arm_rows]
        self.writer.table(f"protocol_{output.slug}_agreement", rows)
        rated = {f"round {k}": v["all_equal"] for k, v in by_round.items() if v["all_equal"]["rate"] is not None}
        if rated:
            plot_bars(
                {k: v["rate"] for k, v in rated.items()},
                self.writer.plot_path(f"protocol_{output.slug}_agreement"),
                title=f"{output.label}: every speaker gives the same value",
                ylabel="share of conversations",
                errors=_errors(rated),
                interval=_interval(rated, self.intervals.level),
            )
        return result

    def _agreement_by_round(
        self, output: OutputField, found: Sequence[Any], arm: str | None = None
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Agreement per round of these replies (of one arm, when given): the measures and the table rows."""
        labels: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for record, reply, value in found:
            labels[reply.round][record.id].append(value_label(value))
        by_round: dict[str, Any] = {}
        rows = []
        for round_number in sorted(labels):
            items = [given for given in labels[round_number].values() if len(given) >= 2]
            what = f"{output.label} agreement in round {round_number}" + (f" of arm {arm}" if arm else "")
            equal = self.intervals.rate(f"{what} (all equal)", [[float(len(set(g)) == 1)] for g in items])
            kappa = self.intervals.statistic(
                f"{what} (Fleiss' kappa)",
                [[g] for g in items],
                fleiss_kappa_labels,
                "undefined, as every speaker gives the same value in every conversation (no chance agreement to "
                "correct for)"
                if items
                else "undefined, as no conversation has two speakers answering",
            )
            by_round[str(round_number)] = {"all_equal": equal, "fleiss_kappa": kappa}
            rows.append(
                {
                    "round": round_number,
                    "conversations": len(items),
                    "all_equal": equal["rate"],
                    **_ci_columns(equal),
                    "fleiss_kappa": kappa["estimate"],
                    **_ci_columns(kappa, "kappa_"),
                }
            )
        return by_round, rows

    def numeric(self, output: OutputField) -> dict[str, Any]:
        """Count, mean, spread and range of a numeric field per agent, per round, and per table key."""
        replies = self._replies(output)
        found = [
            (record, reply, float(v))
            for record, reply, v in self._values(output)
            if isinstance(v, int | float) and not isinstance(v, bool)
        ]
        result: dict[str, Any] = {"replies": len(replies), "observations": len(found)}
        if not self._observed(output, found, len(replies)):
            return result

        def summary(values: list[float]) -> dict[str, float | int]:
            return {
                "n": len(values),
                "mean": fmean(values),
                "sd": pstdev(values),
                "min": min(values),
                "max": max(values),
            }

        grouped: dict[str, dict[str, list[float]]] = {"by_agent": defaultdict(list), "by_round": defaultdict(list)}
        if self.arm_dims:
            grouped["by_arm"] = defaultdict(list)
        keyed: dict[tuple[Any, ...], list[float]] = defaultdict(list)
        for record, reply, value in found:
            grouped["by_agent"][reply.agent].append(value)
            grouped["by_round"][str(reply.round)].append(value)
            if self.arm_dims:
                grouped["by_arm"][self.arm_label(record.id)].append(value)
            keyed[_key_of(record, reply, self.keys, self.arms.get(record.id))].append(value)
        for name, groups in grouped.items():
            result[name] = {k: summary(v) for k, v in groups.items()}
        distinct = {value for _, _, value in found}
        if len(found) > 1 and len(distinct) == 1:
            self.intervals.notes.append(
                f"{output.label}: every one of its {len(found)} values is {distinct.pop():g}, so it has no spread"
            )
        self.writer.table(
            f"protocol_{output.slug}_summary",
            [
                {**dict(zip(self.keys, key, strict=True)), **summary(values)}
                for key, values in sorted(keyed.items(), key=lambda kv: tuple(map(str, kv[0])))
            ],
        )
        plot_bars(
            {agent: s["mean"] for agent, s in result["by_agent"].items()},
            self.writer.plot_path(f"protocol_{output.slug}_by_agent"),
            title=f"{output.label}: mean by agent",
            ylabel=output.path,
        )
        return result

    def listed(self, output: OutputField) -> dict[str, Any]:
        """Share of an agent's replies that name each member of a list field."""
        replies = self._replies(output)
        found = [(record, reply, v) for record, reply, v in self._values(output) if isinstance(v, list)]
        result: dict[str, Any] = {"replies": len(replies), "observations": len(found)}
        if not self._observed(output, found, len(replies)):
            return result
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        answered: Counter[str] = Counter()
        arm_counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        arm_answered: Counter[tuple[str, str]] = Counter()
        first_of: dict[str, str] = {}
        for record, reply, items in found:
            answered[reply.agent] += 1
            counts[reply.agent].update(value_label(item) for item in set(items))
            if self.arm_dims:
                arm = self.arm_label(record.id)
                first_of.setdefault(arm, record.id)
                arm_answered[(arm, reply.agent)] += 1
                arm_counts[(arm, reply.agent)].update(value_label(item) for item in set(items))
        result["by_agent"] = {
            agent: {item: n / answered[agent] for item, n in counts[agent].most_common()} for agent in counts
        }
        rows = [
            {**self.pooled_columns(), "agent": agent, "item": item, "replies": n, "share": n / answered[agent]}
            for agent in counts
            for item, n in counts[agent].most_common()
        ]
        if self.arm_dims:
            result["by_arm"] = {}
            for (arm, agent), given in arm_counts.items():
                shares = {item: n / arm_answered[(arm, agent)] for item, n in given.most_common()}
                result["by_arm"].setdefault(arm, {})[agent] = shares
                rows += [
                    {
                        **self.arm_columns(first_of[arm]),
                        "agent": agent,
                        "item": item,
                        "replies": given[item],
                        "share": v,
                    }
                    for item, v in shares.items()
                ]
        self.writer.table(f"protocol_{output.slug}_items", rows)
        return result

    def dropped_values(self) -> dict[str, Any]:
        """Per role whose replies drop names outside its list (`dropped_values`): kept and dropped, with a note when
        every one was dropped."""
        result: dict[str, Any] = {}
        for role in dict.fromkeys(f.role for f in self.fields):
            parsed = [
                reply.parsed for record in self.records for reply in record.replies_of(role) if reply.parsed is not None
            ]
            with_drops = [p for p in parsed if "dropped_values" in p]
            if not with_drops:
                continue
            dropped = sum(len(p.get("dropped_values") or []) for p in with_drops)
            kept = sum(len(p.get("values") or []) for p in with_drops)
            result[role] = {"replies": len(with_drops), "kept": kept, "dropped": dropped}
            if dropped and not kept:
                names = Counter(str(n) for p in with_drops for n in p.get("dropped_values") or [])
                self.intervals.notes.append(
                    f"role '{role}': every value name was dropped ({dropped} dropped over {len(with_drops)} replies; "
                    f"none is on its list, e.g. {', '.join(n for n, _ in names.most_common(3))}), "
                    "so its values are not measured"
                )
        return result

    # --- usage -------------------------------------------------------------------------------

    def usage(self) -> dict[str, Any]:
        """Tokens, latency, cost, failures and unparsed replies per role and per agent."""
        if self.arm_dims:
            rows = self._usage_rows_by_arm()
        else:
            rows = [row.as_row() for row in usage_rows(self.events)]
            costs = {agent: totals.cost for agent, totals in self.manifest.usage.by_agent.items()}
            for row in rows:
                row["cost"] = costs.get(row["agent"])
        self.writer.table("protocol_usage", rows)
        by_role: dict[str, dict[str, Any]] = {}
        for row in rows:
            total = by_role.setdefault(row["role"], {"agents": 0})
            total["agents"] += 1
            for key in ("calls", "tokens_in", "tokens_out", "latency_s", "failures", "invalid_replies", "replies"):
                total[key] = total.get(key, 0) + row[key]
            total["unparsed"] = total.get("unparsed", 0) + row["unparsed"]
            if row["cost"] is not None:
                total["cost"] = total.get("cost", 0.0) + row["cost"]
        for role, total in by_role.items():
            if total["replies"] and total["unparsed"] == total["replies"]:
                self.intervals.notes.append(f"role '{role}': every one of its {total['replies']} replies is unparsed")
        if rows and not self.arm_dims:
            plot_bars(
                {row["agent"]: float(row["tokens_in"] + row["tokens_out"]) for row in rows},
                self.writer.plot_path("protocol_tokens_by_agent"),
                title="Tokens by agent (in + out)",
                ylabel="tokens",
            )
        if self.arm_dims:
            by_arm: dict[str, dict[str, Any]] = {}
            for row in rows:
                by_arm.setdefault(row.pop("arm"), {})[row["agent"]] = row
            return {"by_arm": by_arm, "by_role": by_role}
        return {"by_agent": {row["agent"]: row for row in rows}, "by_role": by_role}

    def _usage_rows_by_arm(self) -> list[dict[str, Any]]:
        """Usage rows per arm and agent; an agent's cost from its run's manifest when the arm is that whole run."""
        events_of: dict[str, list[Event]] = defaultdict(list)
        for event in self.events:
            events_of[self.arm_label(event.conversation_id)].append(event)
        arms_of_run: dict[str, set[str]] = defaultdict(set)
        for entry in self.arms.conversations.values():
            arms_of_run[entry.run].add(self.arm_label(entry.conversation_id))
        rows = []
        for arm, events in events_of.items():
            cid = events[0].conversation_id
            found = self.arms.get(cid)
            manifest = self.run_manifests.get(found.run) if found else None
            whole_run = found is not None and manifest is not None and arms_of_run[found.run] == {arm}
            for usage in usage_rows(events):
                row = {**self.arm_columns(cid), **usage.as_row()}
                totals = manifest.usage.by_agent.get(usage.agent) if whole_run and manifest else None
                row["cost"] = totals.cost if totals else None
                rows.append({"arm": arm, **row})
        return rows


def analyze_protocol_run(inputs: AnalysisInputs, writer: AnalysisWriter) -> dict[str, Any]:
    """The generic measurements of any run (its `protocol` section), tables and plots written, notes given."""
    return ProtocolAnalysis(inputs, writer).run()
