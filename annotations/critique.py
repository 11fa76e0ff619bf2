"""Critique data as pure logic: the error-type taxonomy, step notes, and the critique of an agreed label.

No Django here. A dataset's taxonomy is a list of `{"slug", "title", "key"}` objects: `slug` is the
stable name stored on annotations and final labels, `title` what people read, `key` a one-letter
keyboard suggestion for the annotation page. An annotation's `rationale` is the explanation of its
marked step; `step_notes` are short notes on other steps (`[{"step": i, "note": text}]`).

When annotators agree (unanimous or majority), the final label takes:
- the explanation: the longest one among the agreeing annotators (the most detailed; ties go to the
  earliest submitted), with that annotation as its provenance;
- the error type: the most frequent one among the agreeing annotators who gave one; a tie goes to the
  type of the annotation whose explanation was taken when it is among the tied, else to the tied type
  given first (earliest submitted).
"""

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

ALL_CORRECT = -1
MAX_ERROR_TYPES = 26
MAX_ERROR_TYPE_TITLE_CHARS = 80
MAX_STEP_NOTES = 20
MAX_STEP_NOTE_CHARS = 500
ERROR_TYPE_FIELDS = ("slug", "title", "key")
_SLUG = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_KEY = re.compile(r"^[a-z]$")

DEFAULT_ERROR_TYPES: tuple[tuple[str, str, str], ...] = (
    ("calculation", "Calculation", "c"),
    ("logic", "Logic", "l"),
    ("misread", "Misread the problem", "m"),
    ("unjustified", "Unjustified or missing step", "u"),
    ("wrong_fact", "Wrong fact or formula", "f"),
    ("other", "Other", "o"),
)


def default_error_types() -> list[dict[str, str]]:
    """Return the default taxonomy (a new list each call: the model field's default)."""
    return [{"slug": slug, "title": title, "key": key} for slug, title, key in DEFAULT_ERROR_TYPES]


def _entry_errors(index: int, entry: Any) -> list[str]:
    where = f"Type {index + 1}"
    if not isinstance(entry, Mapping) or set(entry) != set(ERROR_TYPE_FIELDS):
        return [f'{where}: must be an object with exactly "slug", "title" and "key".']
    errors = []
    slug, title, key = entry["slug"], entry["title"], entry["key"]
    if not isinstance(slug, str) or not _SLUG.match(slug):
        errors.append(f"{where}: slug must be 1-40 lowercase letters, digits or _, starting with a letter.")
    if not isinstance(title, str) or not title.strip() or len(title) > MAX_ERROR_TYPE_TITLE_CHARS:
        errors.append(f"{where}: title must be 1-{MAX_ERROR_TYPE_TITLE_CHARS} characters.")
    elif "\x00" in title:
        errors.append(f"{where}: title must not contain NUL characters.")
    if not isinstance(key, str) or not _KEY.match(key):
        errors.append(f"{where}: key must be one lowercase letter a-z.")
    return errors


def _duplicates(values: list[Any]) -> list[str]:
    counts = Counter(value for value in values if isinstance(value, str))
    return sorted(value for value, count in counts.items() if count > 1)


def error_types_errors(value: Any) -> list[str]:
    """Return what is wrong with a taxonomy value; empty for a valid one."""
    if not isinstance(value, list) or not value:
        return ['Must be a non-empty list of {"slug", "title", "key"} objects.']
    if len(value) > MAX_ERROR_TYPES:
        return [f"At most {MAX_ERROR_TYPES} error types (got {len(value)})."]
    errors = [message for index, entry in enumerate(value) for message in _entry_errors(index, entry)]
    if errors:
        return errors
    if slugs := _duplicates([entry["slug"] for entry in value]):
        errors.append(f"Each slug must be unique: {', '.join(slugs)}.")
    if keys := _duplicates([entry["key"] for entry in value]):
        errors.append(f"Each key must be unique: {', '.join(keys)}.")
    return errors


@dataclass(frozen=True)
class ErrorType:
    """One entry of a dataset's taxonomy, as the pages show it."""

    slug: str
    title: str
    key: str


def error_type_entries(taxonomy: Any) -> list[ErrorType]:
    """Return a (stored, valid) taxonomy's entries in its order; malformed entries are left out."""
    if not isinstance(taxonomy, list):
        return []
    return [
        ErrorType(entry["slug"], entry["title"], entry["key"])
        for entry in taxonomy
        if isinstance(entry, Mapping) and all(isinstance(entry.get(name), str) for name in ERROR_TYPE_FIELDS)
    ]


def error_type_title(slug: str | None, taxonomy: Any) -> str:
    """Return the title of an error type's slug ("" for none; the slug itself when the taxonomy lacks it)."""
    if not slug:
        return ""
    return next((entry.title for entry in error_type_entries(taxonomy) if entry.slug == slug), slug)


def error_type_slugs(taxonomy: Any) -> list[str]:
    """Return the slugs of a (stored, valid) taxonomy in its order."""
    return [entry["slug"] for entry in taxonomy] if isinstance(taxonomy, list) else []


def error_type_errors(error_type: str | None, *, label: int, taxonomy: Any) -> list[str]:
    """Return what is wrong with an error type for a label: only a marked step takes one, from the taxonomy."""
    if error_type is None:
        return []
    if label == ALL_CORRECT:
        return ["Only a marked step takes an error type; leave it empty when all steps are correct."]
    slugs = error_type_slugs(taxonomy)
    if error_type not in slugs:
        shown = error_type if len(error_type) <= 40 else error_type[:40] + "..."
        return [f"Unknown error type {shown!r}; this dataset's types are: {', '.join(slugs)}."]
    return []


def step_notes_errors(notes: Mapping[int, str], *, num_steps: int, marked_step: int) -> list[str]:
    """Return what is wrong with notes on steps (index -> text); blank notes must be dropped before."""
    if len(notes) > MAX_STEP_NOTES:
        return [f"At most {MAX_STEP_NOTES} step notes (got {len(notes)})."]
    errors = []
    for step, note in sorted(notes.items()):
        if not 0 <= step < num_steps:
            errors.append(f"Step index {step} is not a step of this {num_steps}-step solution (0 to {num_steps - 1}).")
        elif step == marked_step:
            errors.append(f"Step index {step} is the marked step: its explanation goes in the rationale.")
        elif len(note) > MAX_STEP_NOTE_CHARS:
            errors.append(f"The note on step index {step} has {len(note)} characters; at most {MAX_STEP_NOTE_CHARS}.")
        elif "\x00" in note:
            errors.append(f"The note on step index {step} must not contain NUL characters.")
    return errors


def step_notes_as_list(notes: Mapping[int, str]) -> list[dict[str, Any]]:
    """Return notes as stored and exported: `[{"step": i, "note": text}]` in step order."""
    return [{"step": step, "note": note} for step, note in sorted(notes.items())]


def step_notes_as_mapping(stored: Any) -> dict[int, str]:
    """Return stored notes (`[{"step", "note"}]`) as index -> text."""
    if not isinstance(stored, list):
        return {}
    return {item["step"]: item["note"] for item in stored if isinstance(item, Mapping)}


@dataclass(frozen=True)
class AnnotatorCritique:
    """What one annotator said about a solution, in submission order (`order`: smaller = earlier)."""

    annotation_id: int
    label: int
    explanation: str
    error_type: str | None
    order: int


@dataclass(frozen=True)
class CritiqueChoice:
    """The explanation and error type that go with a final label, and the annotation of the explanation."""

    explanation: str
    error_type: str | None
    annotation_id: int | None


def _error_type(agreeing: Sequence[AnnotatorCritique], chosen: AnnotatorCritique | None) -> str | None:
    counts = Counter(item.error_type for item in agreeing if item.error_type)
    if not counts:
        return None
    top = max(counts.values())
    tied = {error_type for error_type, count in counts.items() if count == top}
    if chosen is not None and chosen.error_type in tied:
        return chosen.error_type
    return next(item.error_type for item in agreeing if item.error_type in tied)


def agreed_critique(annotations: Sequence[AnnotatorCritique], label: int) -> CritiqueChoice | None:
    """Return the explanation and error type of the annotators who gave `label` (see the module docstring).

    None when none of them wrote an explanation or gave an error type.
    """
    agreeing = sorted((item for item in annotations if item.label == label), key=lambda item: item.order)
    explained = [item for item in agreeing if item.explanation]
    chosen = max(explained, key=lambda item: (len(item.explanation), -item.order)) if explained else None
    error_type = _error_type(agreeing, chosen) if label != ALL_CORRECT else None
    if chosen is None and error_type is None:
        return None
    return CritiqueChoice(
        explanation=chosen.explanation if chosen else "",
        error_type=error_type,
        annotation_id=chosen.annotation_id if chosen else None,
    )
