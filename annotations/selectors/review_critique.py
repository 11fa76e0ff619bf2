"""The critique on the review page: whose explanation the annotators' agreement takes for each label, and
the current final label's explanation and error type with where they came from, in words.

Pure reads of rows the review page already loaded (no queries of their own).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from annotations.critique import AnnotatorCritique, agreed_critique, error_type_title
from annotations.models import Annotation, CritiqueSource, FinalLabel
from annotations.rendering import render_markdown


@dataclass(frozen=True)
class FinalCritiqueView:
    """A final label's explanation (safe HTML), its error type's title and who wrote it, in words."""

    explanation_html: str
    error_type_title: str
    provenance: str


def agreed_explanation_authors(annotations: Sequence[Annotation]) -> dict[int, str]:
    """Return {label: the annotator whose explanation goes with that label by default} for each label given.

    The default is the one `review_decide` takes when the reviewer picks and writes none
    (`annotations.critique.agreed_critique`: the longest explanation among those who gave the label).
    """
    ordered = sorted(annotations, key=lambda annotation: (annotation.created_at, annotation.pk))
    critiques = [
        AnnotatorCritique(item.pk, item.earliest_error_step, item.rationale, item.error_type, order)
        for order, item in enumerate(ordered)
    ]
    names = {annotation.pk: annotation.annotator.get_username() for annotation in annotations}
    authors = {}
    for label in {annotation.earliest_error_step for annotation in annotations}:
        choice = agreed_critique(critiques, label)
        if choice is not None and choice.annotation_id is not None:
            authors[label] = names[choice.annotation_id]
    return authors


def _provenance(final: FinalLabel) -> str:
    if final.explanation_source == CritiqueSource.HUMAN:
        annotation = final.explanation_annotation
        who = f"{annotation.annotator.get_username()}'s" if annotation is not None else "an annotator's"
        return f"from {who} annotation"
    if final.explanation_source == CritiqueSource.REVIEWER:
        reviewer = final.decided_by.get_username() if final.decided_by is not None else "the reviewer"
        return f"written by {reviewer} (reviewer)"
    if final.explanation_source == CritiqueSource.JUDGE:
        suggestion = final.explanation_suggestion
        model = f" ({suggestion.model_name})" if suggestion is not None and suggestion.model_name else ""
        return f"the LLM judge's critique{model}"
    return ""


def final_critique_view(final: FinalLabel | None, taxonomy: Any) -> FinalCritiqueView | None:
    """Return the final label's critique for the page; None without a final label or a critique."""
    if final is None or not (final.explanation or final.error_type):
        return None
    return FinalCritiqueView(
        explanation_html=render_markdown(final.explanation),
        error_type_title=error_type_title(final.error_type, taxonomy),
        provenance=_provenance(final),
    )
