"""Labels that come with an imported solution (from an `annotations` export), as plain data with their checks.

Pure Python, no database: the parser builds these from JSON, `annotations.services.label_imports` stores
them. Error keys name the field as the record spells it (`annotations[1].error_type`, `final_label.label`).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from annotations.critique import error_type_errors, step_notes_errors

MAX_ANNOTATIONS = 50
MAX_USERNAME_CHARS = 150
MAX_EXPLANATION_CHARS = 10_000
EXPLANATION_SOURCES = ("", "human", "reviewer", "judge")

Errors = dict[str, list[str]]


@dataclass(frozen=True)
class AnnotationImport:
    """One annotator's label of the solution, as the export wrote it (timestamps are not imported)."""

    annotator: str
    earliest_error_step: int
    rationale: str = ""
    error_type: str | None = None
    step_notes: Mapping[int, str] = field(default_factory=dict)
    flag_ambiguous: bool = False
    flag_reference_wrong: bool = False
    flag_unsure: bool = False
    seconds_spent: float = 0.0
    suggestions_visible: bool = False


@dataclass(frozen=True)
class FinalLabelImport:
    """The solution's final label on the instance it came from, with its critique and provenance."""

    label: int
    source: str = ""
    agreement: float | None = None
    decided_by: str = ""
    decided_at: str = ""
    explanation: str = ""
    error_type: str | None = None
    explanation_source: str = ""
    explanation_annotator: str = ""


@dataclass(frozen=True)
class ImportedLabels:
    """What people (and the final label) said about one imported solution."""

    final_label: FinalLabelImport | None = None
    annotations: Sequence[AnnotationImport] = ()

    @property
    def usernames(self) -> set[str]:
        return {item.annotator for item in self.annotations}


def _text(value: Any, limit: int) -> str | None:
    """Return why `value` is not a storable string of at most `limit` characters, else None."""
    if not isinstance(value, str):
        return "Must be a string."
    if len(value) > limit:
        return f"At most {limit} characters (got {len(value)})."
    if "\x00" in value:
        return "Must not contain NUL characters."
    return None


def _label(value: Any, num_steps: int) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or not -1 <= value < num_steps:
        return f"Must be -1 (all steps correct) or a step index from 0 to {num_steps - 1}."
    return None


def annotation_errors(item: AnnotationImport, *, num_steps: int, where: str) -> Errors:
    """Return what is wrong with one imported annotation (structure and ranges; the taxonomy is checked on import)."""
    errors: Errors = {}
    if problem := _text(item.annotator, MAX_USERNAME_CHARS):
        errors[f"{where}.annotator"] = [problem]
    elif not item.annotator.strip():
        errors[f"{where}.annotator"] = ["Must not be blank."]
    if problem := _label(item.earliest_error_step, num_steps):
        errors[f"{where}.earliest_error_step"] = [problem]
        return errors
    if problem := _text(item.rationale, MAX_EXPLANATION_CHARS):
        errors[f"{where}.rationale"] = [problem]
    if item.error_type is not None and item.earliest_error_step == -1:
        errors[f"{where}.error_type"] = ["Only a marked step takes an error type."]
    notes = step_notes_errors(item.step_notes, num_steps=num_steps, marked_step=item.earliest_error_step)
    if notes:
        errors[f"{where}.step_notes"] = notes
    return errors


def final_label_errors(item: FinalLabelImport, *, num_steps: int) -> Errors:
    """Return what is wrong with an imported final label."""
    errors: Errors = {}
    if problem := _label(item.label, num_steps):
        return {"final_label.label": [problem]}
    if problem := _text(item.explanation, MAX_EXPLANATION_CHARS):
        errors["final_label.explanation"] = [problem]
    if item.error_type is not None and item.label == -1:
        errors["final_label.error_type"] = ["Only a marked step takes an error type."]
    if item.explanation_source not in EXPLANATION_SOURCES:
        errors["final_label.explanation_source"] = [f"Must be one of: {', '.join(EXPLANATION_SOURCES[1:])}, or empty."]
    return errors


def labels_errors(labels: ImportedLabels, *, num_steps: int) -> Errors:
    """Return what is wrong with a solution's imported labels, by field (empty when they can be stored)."""
    errors: Errors = {}
    if len(labels.annotations) > MAX_ANNOTATIONS:
        return {"annotations": [f"At most {MAX_ANNOTATIONS} annotations per solution (got {len(labels.annotations)})."]}
    seen: set[str] = set()
    for index, item in enumerate(labels.annotations):
        errors.update(annotation_errors(item, num_steps=num_steps, where=f"annotations[{index}]"))
        if item.annotator in seen:
            errors.setdefault(f"annotations[{index}].annotator", []).append(f"{item.annotator!r} appears twice.")
        seen.add(item.annotator)
    if labels.final_label is not None:
        errors.update(final_label_errors(labels.final_label, num_steps=num_steps))
    return errors


def labels_taxonomy_errors(labels: ImportedLabels, taxonomy: Any) -> Errors:
    """Return the error types that the importing dataset's taxonomy does not know, by field."""
    errors: Errors = {}
    for index, item in enumerate(labels.annotations):
        found = error_type_errors(item.error_type, label=item.earliest_error_step, taxonomy=taxonomy)
        if found:
            errors[f"annotations[{index}].error_type"] = found
    final = labels.final_label
    if final is not None and (found := error_type_errors(final.error_type, label=final.label, taxonomy=taxonomy)):
        errors["final_label.error_type"] = found
    return errors
