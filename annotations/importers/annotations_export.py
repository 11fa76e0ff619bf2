"""prmweb's own `annotations` export, read back: solutions with their final label, annotations and critiques.

Input: the export's JSON Lines (`data/*.jsonl` or `.jsonl.gz`), or the export folder itself (its
`manifest.json` names the files; Parquet exports cannot be read back). Each record becomes a solution
(the final label's label as its imported label) plus `ImportedLabels`: every annotation (annotator by
username, step, explanation, error type, step notes, flags, seconds) and the final label's explanation,
error type and their provenance. Suggestions are not imported (they are re-run on the new instance), nor
are timestamps. Unknown keys are errors, as in the export's own format.
"""

import gzip
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO

from annotations.importers.base import ParsedRecord, file_error
from annotations.importers.labels import AnnotationImport, Errors, FinalLabelImport, ImportedLabels, labels_errors
from annotations.solution_input import solution_input_from_mapping

SOLUTION_KEYS = ("id", "problem", "steps", "generator", "subset", "reference_answer", "final_answer")
KNOWN_KEYS = (*SOLUTION_KEYS, "solution_id", "final_answer_correct", "imported_label", "final_label", "annotations")
IGNORED_KEYS = ("suggestions",)
FLAGS = ("flag_ambiguous", "flag_reference_wrong", "flag_unsure", "suggestions_visible")


def _optional_text(value: Any, field: str, errors: Errors) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        errors[field] = ["Must be a string."]
        return ""
    return value


def _error_type(value: Any, field: str, errors: Errors) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        errors[field] = ["Must be a string (an error-type slug) or null."]
        return None
    return value


def _step_notes(value: Any, field: str, errors: Errors) -> dict[int, str]:
    if value is None:
        return {}
    shape_ok = isinstance(value, list) and all(
        isinstance(item, Mapping) and isinstance(item.get("step"), int) and isinstance(item.get("note"), str)
        for item in value
    )
    if not shape_ok:
        errors[field] = ['Must be a list of {"step": index, "note": text}.']
        return {}
    return {item["step"]: item["note"].strip() for item in value if item["note"].strip()}


def _integer(value: Any, field: str, errors: Errors) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        errors[field] = ["Must be an integer: -1 (all steps correct) or a step index."]
        return None
    return value


def _annotation(value: Any, where: str, errors: Errors) -> AnnotationImport | None:
    if not isinstance(value, Mapping):
        errors[where] = ["Must be an object (one annotation)."]
        return None
    annotator = value.get("annotator")
    if not isinstance(annotator, str):
        errors[f"{where}.annotator"] = ["Must be a username (a string)."]
    step = _integer(value.get("earliest_error_step"), f"{where}.earliest_error_step", errors)
    if not isinstance(annotator, str) or step is None:
        return None
    flags = {name: value.get(name, False) for name in FLAGS}
    for name, flag in flags.items():
        if not isinstance(flag, bool):
            errors[f"{where}.{name}"] = ["Must be true or false."]
    seconds = value.get("seconds_spent") or 0.0
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 <= seconds < float("inf"):
        errors[f"{where}.seconds_spent"] = ["Must be a number of seconds, at least 0."]
        seconds = 0.0
    return AnnotationImport(
        annotator=annotator,
        earliest_error_step=step,
        rationale=_optional_text(value.get("rationale"), f"{where}.rationale", errors),
        error_type=_error_type(value.get("error_type"), f"{where}.error_type", errors),
        step_notes=_step_notes(value.get("step_notes"), f"{where}.step_notes", errors),
        seconds_spent=float(seconds),
        **{name: flag is True for name, flag in flags.items()},
    )


def _final_label(value: Any, errors: Errors) -> FinalLabelImport | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        errors["final_label"] = ["Must be an object or null."]
        return None
    label = _integer(value.get("label"), "final_label.label", errors)
    if label is None:
        return None
    agreement = value.get("agreement")
    if agreement is not None and (isinstance(agreement, bool) or not isinstance(agreement, int | float)):
        errors["final_label.agreement"] = ["Must be a number or null."]
        agreement = None
    text = {
        name: _optional_text(value.get(name), f"final_label.{name}", errors)
        for name in ("source", "decided_by", "decided_at", "explanation", "explanation_source", "explanation_annotator")
    }
    return FinalLabelImport(
        label=label,
        agreement=agreement,
        error_type=_error_type(value.get("error_type"), "final_label.error_type", errors),
        **text,
    )


def _labels(record: Mapping[str, Any], errors: Errors) -> ImportedLabels:
    annotations = record.get("annotations") or []
    if not isinstance(annotations, list):
        errors["annotations"] = ["Must be a list of annotations."]
        annotations = []
    items = [_annotation(value, f"annotations[{index}]", errors) for index, value in enumerate(annotations)]
    return ImportedLabels(
        final_label=_final_label(record.get("final_label"), errors),
        annotations=tuple(item for item in items if item is not None),
    )


def annotations_export_record(record: Any, locator: str) -> ParsedRecord:
    """Return one export record as a solution to ingest with its labels, or its errors by field."""
    if not isinstance(record, Mapping):
        return ParsedRecord(locator=locator, errors={"non_field_errors": ["Must be a JSON object (one solution)."]})
    errors: Errors = {
        str(name): [f"Unknown field. Allowed fields: {', '.join((*KNOWN_KEYS, *IGNORED_KEYS))}."]
        for name in record
        if name not in KNOWN_KEYS and name not in IGNORED_KEYS
    }
    labels = _labels(record, errors)
    final = labels.final_label
    label = final.label if final is not None else record.get("imported_label")
    solution = {name: record.get(name) for name in SOLUTION_KEYS if record.get(name) is not None}
    solution.update(final_answer_correct=record.get("final_answer_correct"), label=label)
    item, structural = solution_input_from_mapping(solution)
    errors.update(structural)
    steps = record.get("steps")
    if isinstance(steps, list) and steps and not errors:
        errors.update(labels_errors(labels, num_steps=len(steps)))
    if item is not None and isinstance(item.external_id, str) and item.external_id:
        locator = f"{locator} (id {item.external_id})"
    return ParsedRecord(locator=locator, item=item, errors=errors, labels=labels)


def _lines(stream: TextIO, name: str) -> Iterator[ParsedRecord]:
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        locator = f"{name}line {number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield ParsedRecord(locator=locator, errors={"line": [f"Not valid JSON: {exc.msg} (column {exc.colno})."]})
            continue
        yield annotations_export_record(record, locator)


def parse_annotations_export(stream: TextIO) -> Iterator[ParsedRecord]:
    """Yield one ParsedRecord per non-blank line of an `annotations` export's JSON Lines."""
    yield from _lines(stream, "")


def export_data_files(folder: Path) -> list[Path]:
    """Return the data files of an export folder, from its manifest; raise ValueError when it cannot be read back."""
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise ValueError(f"{folder} has no manifest.json: give an export folder or one of its data/*.jsonl files.")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if manifest.get("format") != "annotations":
        raise ValueError(
            f"{folder} holds a {manifest.get('format')!r} export; only an annotations export can be imported."
        )
    if manifest.get("file_format") not in ("jsonl", "jsonl.gz"):
        raise ValueError(f"{folder} holds Parquet files; export again with --file-format jsonl to import them.")
    return [folder / entry["path"] for entry in manifest.get("files", []) if entry.get("split")]


def parse_annotations_path(path: Path) -> Iterator[ParsedRecord]:
    """Yield the records of an export folder, a `.jsonl.gz` file or a `.jsonl` file (locators name the file)."""
    if path.is_dir():
        try:
            files = export_data_files(path)
        except (ValueError, json.JSONDecodeError) as exc:
            yield file_error(str(exc))
            return
    else:
        files = [path]
    for data_file in files:
        label = f"{data_file.name} " if path.is_dir() else ""
        opener = gzip.open if data_file.suffix == ".gz" else open
        with opener(data_file, "rt", encoding="utf-8", errors="strict") as stream:
            yield from _lines(stream, label)
