"""The critique figures of the metrics API (`critique` in GET /api/v1/datasets/<slug>/metrics/)."""

from dataclasses import asdict
from typing import Any

from annotations.critique_metrics import ErrorTypeDistribution, ExplanationFigures, JudgeAgreementRow
from annotations.selectors.critique_quality import CritiqueFigures

DEFINITIONS = {
    "error_types": "Error types of erroneous final labels (any source); (untyped) counts those without one. "
    "by_position: relative position of the error step, step index / (steps - 1), in 10 bins.",
    "type_agreement": "Agreement on the error type among annotators whose step equals the final label, over "
    "solutions with 2+ such typed annotations; Fleiss' kappa generalised to varying annotators per solution.",
    "explanations": "Share of erroneous labels with an explanation and the median length (characters) of those "
    "explanations: final labels (whoever wrote it) and annotators' own erroneous labels.",
    "judge": "Succeeded judge suggestions on solutions with a reference final label (people's or imported; "
    "consensus_auto left out), per subset: how many agree with it; agreeing_with_text also carry critique text.",
}


def _distribution(distribution: ErrorTypeDistribution) -> dict[str, Any]:
    types = distribution.types

    def counts(counter: Any) -> dict[str, int]:
        return {slug: counter[slug] for slug in types}

    return {
        "types": [{"slug": slug, "title": distribution.title(slug)} for slug in types],
        "overall": counts(distribution.overall),
        "by_subset": {name: counts(counter) for name, counter in distribution.by_subset.items()},
        "by_generator": {name: counts(counter) for name, counter in distribution.by_generator.items()},
        "by_position": [
            {"from": low, "to": high, "counts": counts(counter)}
            for (low, high), counter in zip(distribution.position_edges, distribution.by_position, strict=True)
        ],
    }


def _explanations(figures: ExplanationFigures) -> dict[str, Any]:
    return {
        "labels": figures.labels,
        "explained": figures.explained,
        "share": figures.share,
        "median_chars": figures.median_chars,
    }


def _judge(row: JudgeAgreementRow) -> dict[str, Any]:
    return {
        "subset": row.subset,
        "judged": row.judged,
        "agreeing": row.agreeing,
        "rate": row.rate,
        "agreeing_with_text": row.agreeing_with_text,
    }


def critique_as_json(figures: CritiqueFigures) -> dict[str, Any]:
    """Return the critique figures as plain JSON-ready data."""
    return {
        "error_types": _distribution(figures.error_types),
        "type_agreement": asdict(figures.type_agreement),
        "explanations": {
            "final_labels": _explanations(figures.final_explanations),
            "annotations": _explanations(figures.annotation_explanations),
        },
        "judge": {"subsets": [_judge(row) for row in figures.judge], "all": _judge(figures.judge_pooled)},
        "definitions": DEFINITIONS,
    }
