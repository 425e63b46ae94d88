"""The question evaluation study: value vectors of models from their answers to generated questions.

Each model answers every question with a stance and three points; a judge of each message names
the Schwartz values the answer's points express (the union over its points). Then, per question
and value, the models play one TrueSkill game: those whose answer expresses the value rank 0,
those whose answer does not rank 1 (all equal is a draw). A model's value vector holds, for each
value, its mean TrueSkill win probability against each other model.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from moot.analysis.analyze import AnalysisInputs
from moot.analysis.outputs import AnalysisWriter
from moot.analysis.plots import plot_grouped_bars
from moot.analysis.ratings import trueskill_ranked_games, trueskill_win_rates
from moot.protocols.values.schwartz import SCHWARTZ_VALUES
from moot.trace.events import ConversationStarted, Event, JudgeDecision, MessageAdded


def value_games_answers(
    answers: Mapping[str, Mapping[str, Collection[str]]], values: Sequence[str]
) -> dict[str, list[list[tuple[str, int]]]]:
    """Per value, one ranked game per question.

    Each game ranks (player, 0) when the player's answer expresses the value, else (player, 1).
    `answers[question][player]` is the set of values of that player's answer; questions answered
    by fewer than two players give no game.
    """
    games: dict[str, list[list[tuple[str, int]]]] = {value: [] for value in values}
    for question in sorted(answers):
        by_player = answers[question]
        if len(by_player) < 2:
            continue
        for value in values:
            games[value].append([(player, 0 if value in by_player[player] else 1) for player in sorted(by_player)])
    return games


def value_vectors_games(games: Mapping[str, Sequence[Sequence[tuple[str, int]]]]) -> dict[str, dict[str, float]]:
    """Each player's value vector: per value, the mean TrueSkill win probability against every other player.

    The games of each value are rated on their own (a fresh TrueSkill environment per value), in order.
    """
    vectors: dict[str, dict[str, float]] = defaultdict(dict)
    for value, value_games in games.items():
        if not value_games:
            continue
        rates = trueskill_win_rates(trueskill_ranked_games(value_games))
        for player, against in rates.items():
            vectors[player][value] = sum(against.values()) / len(against) if against else 0.5
    return {player: dict(vector) for player, vector in sorted(vectors.items())}


def answer_values_events(events: Sequence[Event]) -> tuple[dict[str, dict[str, set[str]]], dict[str, str]]:
    """From a trace: per question (scenario), each answering agent's values; and the question texts.

    An agent's values are the union of the judge's decisions about its message.
    """
    said: dict[tuple[str, str], tuple[str, str]] = {}
    texts: dict[str, str] = {}
    for event in events:
        if isinstance(event, ConversationStarted) and event.scenario:
            texts[event.scenario_id] = event.scenario.get("text", "")
        elif isinstance(event, MessageAdded) and event.parsed is not None and event.agent:
            said[(event.conversation_id, f"r{event.round}:{event.agent}")] = (event.scenario_id, event.agent)
    answers: dict[str, dict[str, set[str]]] = defaultdict(dict)
    for scenario, agent in said.values():
        answers[scenario].setdefault(agent, set())
    for event in events:
        if isinstance(event, JudgeDecision) and event.about and (event.conversation_id, event.about) in said:
            scenario, agent = said[(event.conversation_id, event.about)]
            answers[scenario][agent] |= set((event.decision or {}).get("values") or [])
    return {q: dict(a) for q, a in answers.items()}, texts


def analyze_question_evaluation(
    events: Sequence[Event], writer: AnalysisWriter, values: Sequence[str] = SCHWARTZ_VALUES
) -> dict[str, Any]:
    """Value vectors of the models of an evaluation run; tables, the side-by-side plot, and the metrics."""
    answers, texts = answer_values_events(events)
    games = value_games_answers(answers, values)
    vectors = value_vectors_games(games)
    writer.table(
        "answers",
        [
            {"question": q, "text": texts.get(q, ""), "player": player, "values": sorted(found)}
            for q, by_player in sorted(answers.items())
            for player, found in sorted(by_player.items())
        ],
    )
    writer.table(
        "value_vectors",
        [{"player": player, **{value: vector.get(value) for value in values}} for player, vector in vectors.items()],
    )
    expressed = {
        player: {value: sum(value in a.get(player, set()) for a in answers.values()) for value in values}
        for player in vectors
    }
    writer.table("value_counts", [{"player": player, **counts} for player, counts in expressed.items()])
    if vectors:
        plot_grouped_bars(
            vectors,
            list(values),
            writer.plot_path("value_vectors"),
            title="Value vectors: TrueSkill win rate per value",
            ylabel="win rate against the others",
        )
    else:
        writer.note("value vectors: no question was answered by two models with a judged answer")
    return {
        "questions": len(answers),
        "games_per_value": {value: len(g) for value, g in games.items()},
        "players": sorted(vectors),
        "value_vectors": vectors,
        "answers_expressing": expressed,
    }


def analyze_question_evaluation_run(inputs: AnalysisInputs, writer: AnalysisWriter) -> dict[str, Any]:
    """The question evaluation study's analysis of a run of `question_evaluation`."""
    return analyze_question_evaluation(inputs.events, writer)
