"""The long-form attributes of each value's arguments, per k and per sample: diversity and specificity.

The paper (sec. 3 and 5, figs. 6-7 and 24-35) gives each value's compression ratio (sec. 3.2) and
specificity (sec. 3.1) for one number of arguments k at a time, over one response per scenario, and
correlates them with the value preferences. moot's long run holds several temperature samples of
each answer (`repeats`), so a figure is computed within one sample of one k (one response per
scenario, as in the paper) and a k's figure is the mean over its samples: pooling the samples would
let gzip compress one answer's near copies into each other and read sampling as redundancy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from moot.analysis import consistency as measures
from moot.analysis.consistency_answers import Argument, LongAnswer
from moot.analysis.outputs import AnalysisWriter
from moot.analysis.plots import plot_grouped_bars

TOP_VALUES = 20
"""Values shown in the plots."""
COMPRESSION_HOW = (
    "gzip ratio of the texts of a value's arguments, within one sample of one k (at least 2 arguments),"
    " then the mean over the samples of that k (paper sec. 3.2, per k)"
)
SPECIFICITY_HOW = {
    "judge": "mean of the judge's 1-5 rating of a value's arguments, within one sample of one k, then the mean over"
    " the samples of that k (paper sec. 3.1, per k)",
    "claim_tree": "mean claim tree depth of a value's arguments, within one sample of one k, then the mean over the"
    " samples of that k (option consistency_specificity=claim_tree)",
}
"""How `metrics.json` says each specificity method is computed."""


def _per_sample(answers: Sequence[LongAnswer], k: str, measure: Any) -> dict[str, dict[str, Any]]:
    samples = {
        str(repeat): measure([arg for a in answers if a.k == k and a.repeat == repeat for arg in a.arguments])
        for repeat in sorted({a.repeat for a in answers if a.k == k})
    }
    return {"by_sample": samples, "mean": measures.mean_over_samples(list(samples.values()))}


def attributes_per_k(
    answers: Sequence[LongAnswer], ks: Sequence[str], specificity_method: str
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """(diversity, specificity), each `{"k=K": {"by_sample": {sample: {value: figure}}, "mean": {value: figure}}}`.

    Diversity is the compression ratio of the texts of a value's arguments (values with two arguments or more in
    the sample); specificity the mean of the arguments' specificity by `specificity_method` (arguments not judged
    so are left out).
    """

    def compression(arguments: list[Argument]) -> dict[str, float]:
        return measures.compression_by_value_arguments((arg.values, arg.text) for arg in arguments)

    def specificity(arguments: list[Argument]) -> dict[str, float]:
        return measures.mean_by_value_arguments(
            (arg.values, score) for arg in arguments if (score := arg.specificity(specificity_method)) is not None
        )

    diversity = {f"k={k}": _per_sample(answers, k, compression) for k in ks}
    return diversity, {f"k={k}": _per_sample(answers, k, specificity) for k in ks}


def attribute_outputs(
    answers: Sequence[LongAnswer],
    ks: Sequence[str],
    specificity_method: str,
    per_k: Mapping[str, Mapping[str, float]],
    short: Mapping[str, float] | None,
    groups: Mapping[str, str],
    writer: AnalysisWriter,
) -> dict[str, Any]:
    """Diversity and specificity per k and per sample, their correlations with preference per k, tables and plots.

    `per_k` is the long-form preference map of each k; `short` the short run's map (None without one). Each k's
    figures are correlated with that k's long-form preferences and with the short-form ones (the paper's figs. 6-7).
    """
    diversity, specificity = attributes_per_k(answers, ks, specificity_method)
    writer.method("compression_ratio", COMPRESSION_HOW)
    writer.method("specificity", SPECIFICITY_HOW[specificity_method])
    writer.table(
        "value_arguments",
        [
            {
                "k": k,
                "value": v,
                "group": groups.get(v, "other"),
                "arguments": sum(v in arg.values for a in answers if a.k == k for arg in a.arguments),
                "compression_ratio": diversity[f"k={k}"]["mean"].get(v),
                "mean_specificity": specificity[f"k={k}"]["mean"].get(v),
                "long_preference": per_k[k].get(v),
                "short_preference": (short or {}).get(v),
            }
            for k in ks
            for v in sorted({v for a in answers if a.k == k for arg in a.arguments for v in arg.values})
        ],
    )
    writer.table(
        "value_arguments_by_sample",
        [
            {
                "k": k,
                "sample": sample,
                "value": v,
                "compression_ratio": diversity[f"k={k}"]["by_sample"][sample].get(v),
                "mean_specificity": specificity[f"k={k}"]["by_sample"][sample].get(v),
            }
            for k in ks
            for sample in specificity[f"k={k}"]["by_sample"]
            for v in sorted(
                set(diversity[f"k={k}"]["by_sample"][sample]) | set(specificity[f"k={k}"]["by_sample"][sample])
            )
        ],
    )
    against = {"long": per_k, **({"short": dict.fromkeys(ks, short)} if short is not None else {})}
    correlations: dict[str, dict[str, Any]] = {"diversity_versus_preference": {}, "specificity_versus_preference": {}}
    rows = []
    for key, label, figures in (
        ("diversity_versus_preference", "compression ratio", diversity),
        ("specificity_versus_preference", "mean specificity", specificity),
    ):
        for k in ks:
            for name, preferences in against.items():
                comparison = f"k={k}: {label} vs {name} preference"
                found = measures.correlation_preferences(figures[f"k={k}"]["mean"], preferences[k]).as_dict()
                correlations[key][comparison] = found
                rows.append({"comparison": comparison, **found})
    writer.table("diversity_specificity_correlations", rows)
    for name, figures, title, ylabel in (
        ("diversity", diversity, "Compression ratio of each value's arguments (higher: less diverse)", "ratio"),
        ("specificity", specificity, f"Mean specificity of each value's arguments ({specificity_method})", "mean"),
    ):
        means = {k: found["mean"] for k, found in figures.items() if found["mean"]}
        if means:
            highest = {
                v: max(found.get(v, float("-inf")) for found in means.values()) for m in means.values() for v in m
            }
            top = sorted(highest, key=lambda v: -highest[v])[:TOP_VALUES]
            plot_grouped_bars(means, top, writer.plot_path(name), title=title + " per k", ylabel=ylabel)
    return {"diversity": diversity, "specificity": specificity, **correlations}
