"""Solo baselines per model: what each model answers alone, beside what it answers in round 1 of a debate.

The baseline is a solo run (or a solo run with a matrix of models, or several put together):
each of its conversations has one speaker, whose model is named as the comparison names it
(`ConversationArm.model_label`). A debater's solo verdict on a scenario is the verdict its own
model gave most often alone on that scenario (over the solo run's repeats); a tie leaves it
without one. Verdict distributions are given per model and per solo repeat (the papers' runs 1-3),
with the share of each verdict as mean and sd across repeats.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from moot.analysis.arms import ArmTable, Spread
from moot.analysis.debates import DebateRecord
from moot.analysis.deliberation import Rate, completed, debates
from moot.analysis.deliberation_seats import Seat

UNPARSED = "unparsed"


@dataclass(frozen=True)
class SoloAnswer:
    """One solo verdict: the model, the scenario, the repeat, and the round-1 verdict (None when unparsed)."""

    model: str
    scenario: str
    repeat: int
    verdict: str | None


def solo_answers(records: Sequence[DebateRecord], table: ArmTable) -> list[SoloAnswer]:
    """The round-1 verdict of every completed one-speaker conversation of a baseline run, with its model."""
    answers = []
    for record in completed(records):
        if len(record.order) != 1:
            continue
        (agent,) = record.order
        entry = table.get(record.conversation)
        model = entry.model_label(agent) if entry is not None else record.models.get(agent, "")
        answers.append(SoloAnswer(model, record.scenario, record.repeat, record.verdict_of(agent, 1)))
    return answers


def _counts(verdicts: Sequence[str | None], labels: Sequence[str]) -> dict[str, int]:
    found = Counter(v or UNPARSED for v in verdicts)
    return {label: found.get(label, 0) for label in [*labels, UNPARSED]}


def solo_by_model(answers: Sequence[SoloAnswer], labels: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Per model: its solo verdict counts (`verdicts`), per repeat (`by_repeat`), and each verdict's share as mean
    and sd across repeats (`share_across_repeats`)."""
    by_model: dict[str, list[SoloAnswer]] = defaultdict(list)
    for answer in answers:
        by_model[answer.model].append(answer)
    result = {}
    for model, mine in sorted(by_model.items()):
        repeats = sorted({a.repeat for a in mine})
        per_repeat = {r: _counts([a.verdict for a in mine if a.repeat == r], labels) for r in repeats}
        result[model] = {
            "verdicts": _counts([a.verdict for a in mine], labels),
            "by_repeat": {str(r): counts for r, counts in per_repeat.items()},
            "share_across_repeats": {
                label: Spread.of(counts[label] / sum(counts.values()) for counts in per_repeat.values()).as_dict()
                for label in [*labels, UNPARSED]
            },
        }
    return result


def solo_verdicts(answers: Sequence[SoloAnswer]) -> dict[tuple[str, str], str | None]:
    """(model, scenario) -> the parsed verdict the model gave most often alone; None on a tie or none parsed."""
    found: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for answer in answers:
        found[(answer.model, answer.scenario)].update([answer.verdict] if answer.verdict else [])
    result: dict[tuple[str, str], str | None] = {}
    for key, counts in found.items():
        top = counts.most_common(2)
        result[key] = top[0][0] if top and (len(top) == 1 or top[0][1] > top[1][1]) else None
    return result


@dataclass(frozen=True)
class SoloAgreement:
    """Each seat whose model has a solo verdict on its scenario, with whether its verdict agrees with it."""

    round_1: list[tuple[Seat, bool]]
    """The seat's round-1 verdict against its model's solo verdict."""
    last_round: list[tuple[Seat, bool]]
    """The seat's last-round verdict against its model's solo verdict."""
    without_solo_run: list[str]
    """Models that debated and have no solo answer at all."""
    without_solo_verdict: int
    """Seats left out because their model's solo answers on the scenario tie or are unparsed."""


def solo_agreement(
    records: Sequence[DebateRecord], seats: Mapping[str, list[Seat]], solo: Mapping[tuple[str, str], str | None]
) -> SoloAgreement:
    """Whether each debater's verdicts (round 1, last round) equal its own model's solo verdict on the scenario."""
    solo_models = {model for model, _ in solo}
    round_1: list[tuple[Seat, bool]] = []
    last: list[tuple[Seat, bool]] = []
    missing: set[str] = set()
    undecided = 0
    for record in debates(records):
        for seat in seats[record.conversation]:
            if seat.model not in solo_models:
                missing.add(seat.model)
                continue
            alone = solo.get((seat.model, record.scenario))
            if alone is None:
                undecided += 1
                continue
            first, final = record.verdict_of(seat.agent, 1), record.verdict_of(seat.agent, record.rounds)
            if first is not None:
                round_1.append((seat, first == alone))
            if final is not None:
                last.append((seat, final == alone))
    return SoloAgreement(round_1, last, sorted(missing), undecided)


def solo_agreement_by_repeat(
    records: Sequence[DebateRecord], seats: Mapping[str, list[Seat]], answers: Sequence[SoloAnswer]
) -> dict[str, dict[str, dict[str, Any]]]:
    """The paper's solo agreement (app. C, table 6): per model, against each set of opponents (`vs X`), and per solo
    repeat, the share of its debates whose round-1 verdict equals the verdict the model gave alone on the scenario in
    that repeat; `across_repeats` is the mean and sd of those shares.

    A debate counts for a repeat when both verdicts are parsed; a model without solo answers has no entry."""
    alone: dict[tuple[str, str, int], str] = {(a.model, a.scenario, a.repeat): a.verdict for a in answers if a.verdict}
    repeats: dict[str, set[int]] = defaultdict(set)
    for answer in answers:
        repeats[answer.model].add(answer.repeat)
    found: dict[str, dict[str, dict[int, list[bool]]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for record in debates(records):
        mine = seats[record.conversation]
        for seat in mine:
            first = record.verdict_of(seat.agent, 1)
            if seat.model not in repeats or first is None:
                continue
            against = "vs " + ", ".join(sorted(s.model for s in mine if s is not seat))
            for repeat in sorted(repeats[seat.model]):
                solo = alone.get((seat.model, record.scenario, repeat))
                if solo is not None:
                    found[seat.model][against][repeat].append(first == solo)
    return {
        model: {
            against: {
                "by_repeat": {str(r): Rate(sum(v), len(v)).as_dict() for r, v in sorted(per_repeat.items())},
                "across_repeats": Spread.of(sum(v) / len(v) for v in per_repeat.values()).as_dict(),
            }
            for against, per_repeat in sorted(groups.items())
        }
        for model, groups in sorted(found.items())
    }


def round_1_by_model(
    records: Sequence[DebateRecord], seats: Mapping[str, list[Seat]], labels: Sequence[str]
) -> dict[str, dict[str, dict[str, int]]]:
    """Per model, its round-1 verdict counts in debates against each set of other models (`vs X`, `vs X, Y`)."""
    found: dict[str, dict[str, list[str | None]]] = defaultdict(lambda: defaultdict(list))
    for record in debates(records):
        mine = seats[record.conversation]
        for seat in mine:
            others = sorted(s.model for s in mine if s is not seat)
            found[seat.model]["vs " + ", ".join(others)].append(record.verdict_of(seat.agent, 1))
    return {
        model: {against: _counts(verdicts, labels) for against, verdicts in sorted(groups.items())}
        for model, groups in sorted(found.items())
    }
