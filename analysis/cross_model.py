"""Statistics across models, shared by the studies that compare the value rankings or profiles of several models.

A model here is one unit of a comparison (`comparison_units`): the model an arm gives the agents a
study measures, with the arm's other varied dimensions beside it. Across models, as the
cooperation paper reports (CoopValue, section 4.1 and appendix D.1): how many models rank each
value first (and last), the mean and sample standard deviation of each value's rank across models,
Kendall's W within groups of models the user names (Table 11), and Kendall's tau between the mean
ranks of two groups (Table 12).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

from moot.analysis.agreement import KendallTau, KendallW, kendall_tau_rankings, kendall_w_rankings
from moot.analysis.arms import MODEL_DIM, ArmTable, ConversationArm, Spread
from moot.errors import UserError
from moot.safe_load import load_yaml, read_text

Rankings = Mapping[str, Sequence[str] | None]
"""Each model's value ranking (top first); None for a model whose data could not rank the values."""


def comparison_units(table: ArmTable, agents: Sequence[str], pooled: Sequence[str] = ()) -> dict[str, str]:
    """The unit of comparison of every conversation: the model of the measured `agents`, then the arm's other
    varied dimensions (`dim=level`) but those in `pooled`.

    The model is the agents' model label (`ConversationArm.model_label`), their distinct labels joined by `+`.
    """
    dims = [
        dim for dim in table.dimensions() if dim not in pooled and not any(dim == MODEL_DIM + agent for agent in agents)
    ]
    return {cid: unit_label(entry, agents, dims) for cid, entry in table.conversations.items()}


def unit_label(entry: ConversationArm, agents: Sequence[str], dims: Sequence[str]) -> str:
    """One conversation's unit: its agents' model label, then `dim=level` of each of `dims`."""
    models = "+".join(dict.fromkeys(entry.model_label(agent) for agent in agents if entry.model_label(agent)))
    return ", ".join([models or "model"] + [f"{dim}={entry.level(dim)}" for dim in dims])


def rank_positions(rankings: Rankings) -> dict[str, dict[str, int]]:
    """Model -> value -> rank (1 = top), for the models that have a ranking."""
    return {model: {v: k for k, v in enumerate(r, start=1)} for model, r in rankings.items() if r}


def ranked_first(rankings: Rankings, last: bool = False) -> dict[str, int]:
    """How many models rank each value first (`last`: last), values in order of first appearance."""
    ranked = [list(r) for r in rankings.values() if r]
    counts = dict.fromkeys((v for r in ranked for v in r), 0)
    for ranking in ranked:
        counts[ranking[-1] if last else ranking[0]] += 1
    return counts


def rank_spread(rankings: Rankings) -> dict[str, Spread]:
    """Each value's rank across models: mean and sample standard deviation (CoopValue, appendix D: `sd 2.8`)."""
    positions = rank_positions(rankings)
    values = dict.fromkeys(v for ranks in positions.values() for v in ranks)
    return {v: Spread.of(float(ranks[v]) if v in ranks else None for ranks in positions.values()) for v in values}


def concordance(rankings: Rankings) -> KendallW | None:
    """Kendall's W of the models' rankings over the values every one ranks; None below two rankings or values."""
    ranked = [list(r) for r in rankings.values() if r]
    if len(ranked) < 2:
        return None
    common = set(ranked[0]).intersection(*ranked[1:])
    if len(common) < 2:
        return None
    return kendall_w_rankings([[v for v in r if v in common] for r in ranked])


def mean_rank(rankings: Rankings) -> dict[str, float]:
    """Each value's mean rank over the models (the ranking of a group of models, as in CoopValue's Table 12)."""
    return {v: s.mean for v, s in rank_spread(rankings).items() if s.mean is not None}


def group_tau(first: Rankings, second: Rankings) -> KendallTau | None:
    """Kendall's tau between the mean ranks of two groups of models, over the values both rank; None when fewer than
    two values are shared."""
    a, b = mean_rank(first), mean_rank(second)
    common = [v for v in a if v in b]
    if len(common) < 2:
        return None
    return kendall_tau_rankings({v: a[v] for v in common}, {v: b[v] for v in common})


def w_dict(w: KendallW | None) -> dict[str, Any] | None:
    """A W as metrics (`w`, `chi_square`, `df`, `p_value`, `raters`, `values`); None stays None."""
    if w is None:
        return None
    return {
        "w": w.w,
        "chi_square": w.chi_square,
        "df": w.df,
        "p_value": w.p_value,
        "raters": w.raters,
        "values": w.items,
    }


@dataclass(frozen=True)
class ModelGroups:
    """Named groups of models (e.g. families, open and closed models), each a list of model labels."""

    groups: dict[str, list[str]]

    @classmethod
    def parse(cls, text: str) -> ModelGroups:
        """`name=m1,m2;name=m3`, or the path of a YAML file mapping each name to a list of models."""
        path = Path(text)
        if text.endswith((".yaml", ".yml")):
            loaded = load_yaml(read_text(path), str(path))
            if not isinstance(loaded, dict) or not all(
                isinstance(m, list) and all(isinstance(x, str) for x in m) for m in loaded.values()
            ):
                raise UserError(f"{path}: groups must map each group's name to a list of models")
            return cls._checked({str(k): list(v) for k, v in loaded.items()}, str(path))
        groups: dict[str, list[str]] = {}
        for part in filter(None, (p.strip() for p in text.split(";"))):
            name, equals, models = part.partition("=")
            members = [m.strip() for m in models.split(",") if m.strip()]
            if not equals or not name.strip() or not members:
                raise UserError(f"--groups: '{part}' is not NAME=MODEL,MODEL")
            if name.strip() in groups:
                raise UserError(f"--groups: group '{name.strip()}' is named twice")
            groups[name.strip()] = members
        return cls._checked(groups, "--groups")

    @classmethod
    def _checked(cls, groups: dict[str, list[str]], where: str) -> ModelGroups:
        if not groups:
            raise UserError(f"{where}: names no group")
        return cls(groups)

    def within(self, rankings: Rankings) -> dict[str, Rankings]:
        """The rankings of each group's members that have one (unknown members are left out)."""
        return {name: {m: rankings[m] for m in members if rankings.get(m)} for name, members in self.groups.items()}

    def unknown(self, models: Sequence[str]) -> list[str]:
        """Members of the groups that are not among `models`."""
        return [m for members in self.groups.values() for m in members if m not in models]


def group_agreement(
    rankings: Rankings, by_repeat: Mapping[str, Rankings], groups: ModelGroups, notes: list[str]
) -> dict[str, Any]:
    """Kendall's W within each group and tau between each pair of groups, on the pooled rankings and per repeat.

    `by_repeat` holds each repeat's rankings of the models; with two or more, each figure also gets its mean and sd
    across repeats (the papers' `mean +- sd`). What cannot be computed is said in `notes`.
    """
    within: dict[str, Any] = {}
    pooled = groups.within(rankings)
    repeats = {repeat: groups.within(r) for repeat, r in by_repeat.items()}
    for name, members in pooled.items():
        w = concordance(members)
        if w is None:
            notes.append(f"Kendall's W within group '{name}': needs at least two of its models with a ranking")
        per_repeat = [concordance(r[name]) for r in repeats.values()]
        within[name] = {
            "models": list(members),
            **(w_dict(w) or {"w": None}),
            "by_repeat": Spread.of(x.w if x else None for x in per_repeat).as_dict(),
        }
    between = []
    for a, b in combinations(pooled, 2):
        tau = group_tau(pooled[a], pooled[b])
        if tau is None:
            notes.append(f"Kendall's tau between groups '{a}' and '{b}': they share fewer than two ranked values")
        taus = [group_tau(r[a], r[b]) for r in repeats.values()]
        between.append(
            {
                "groups": [a, b],
                "tau": tau.tau if tau else None,
                "p_value": tau.p_value if tau else None,
                "values": tau.n if tau else 0,
                "by_repeat": Spread.of(x.tau if x else None for x in taus).as_dict(),
            }
        )
    return {"within": within, "between": between}


def across_models(rankings: Rankings, label: str, notes: list[str]) -> dict[str, Any] | None:
    """Ranked first and last by how many models, each value's rank mean and sd, and Kendall's W across the models.

    None, with a note naming `label`, below two models with a ranking.
    """
    ranked = {m: r for m, r in rankings.items() if r}
    if len(ranked) < 2:
        notes.append(f"{label} across models: needs at least two models with a ranking (found {len(ranked)})")
        return None
    if len(ranked) < 3:
        notes.append(f"{label}: the rank sd and Kendall's W across models rest on two models only")
    spread = rank_spread(ranked)
    return {
        "models": list(ranked),
        "ranked_first": ranked_first(ranked),
        "ranked_last": ranked_first(ranked, last=True),
        "rank": {v: s.as_dict() for v, s in spread.items()},
        "concordance": w_dict(concordance(ranked)),
    }


def shown_models(text: str | None) -> tuple[str, ...]:
    """The models of `--show M1,M2` (empty: every model)."""
    if text is None:
        return ()
    models = tuple(dict.fromkeys(m.strip() for m in text.split(",") if m.strip()))
    if not models:
        raise UserError("--show: names no model (expected MODEL,MODEL)")
    return models
