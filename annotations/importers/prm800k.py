"""PRM800K raw records: `{labeler, timestamp, generation, question{...}, label{steps, finish_reason}}`.

A file is JSON Lines or pretty-printed objects one after another (the public samples are the latter).

- Phase 2 records (`question.pre_generated_steps` present) rate a model's complete solution step by step
  and stop at the first error: the solution is `pre_generated_steps`, each labelled step's rating is
  that of its first completion (the pre-generated step), and the earliest error is the first rated -1.
- Phase 1 records build a trajectory: each step is the chosen completion, or the labeler's own
  `human_completion` when none was chosen (a human step counts as correct). The earliest error is the
  first chosen step rated -1; with `finish_reason == "solution"` and every step rated, -1.
- Records whose labeler gave up (`give_up`), flagged a bad problem, or left steps unrated carry no
  trustworthy label: they are skipped with the reason. Structurally broken records are rejected.

The external id is `prm800k-` + a hash of labeler, timestamp and problem, so the same labelling
imported twice (or from two files) is stored once.
"""

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from annotations.importers.base import ParsedRecord, file_error, iter_json_values
from annotations.solution_input import Errors, SolutionInput

SUBSET = "prm800k"
BAD_RATING = -1


@dataclass(frozen=True)
class _Trajectory:
    steps: list[str]
    ratings: list[int | None]  # one per labelled step; None for a human-written or unrated step
    human_steps: list[int]
    unlabelled_from: int | None = None  # the first step the labeler neither rated nor wrote


class _Skip(Exception):
    """A record that is well-formed but has nothing trustworthy to import."""


class _Invalid(Exception):
    def __init__(self, errors: Errors):
        super().__init__(errors)
        self.errors = errors


def parse_prm800k(stream: TextIO) -> Iterator[ParsedRecord]:
    """Yield one ParsedRecord per PRM800K record; an unreadable value ends the file with a file-level error."""
    index = 0
    try:
        for line, record in iter_json_values(stream):
            yield prm800k_record(index, line, record)
            index += 1
    except ValueError as exc:
        yield file_error(str(exc), locator=f"record {index}")


def external_id_for(record: dict[str, Any]) -> str:
    """Return the stable id of one labelling: a hash of labeler, timestamp and problem text."""
    question = record.get("question") or {}
    key = json.dumps([record.get("labeler"), record.get("timestamp"), question.get("problem")], ensure_ascii=False)
    return "prm800k-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]


def prm800k_record(index: int, line: int, record: Any) -> ParsedRecord:
    """Turn one decoded PRM800K record into a ParsedRecord: an item, its errors, or why it is skipped."""
    locator = f"record {index} (line {line})"
    if not isinstance(record, dict):
        return ParsedRecord(locator=locator, errors={"non_field_errors": ["Must be a JSON object."]})
    try:
        question, label = _question_and_label(record)
        phase = 2 if "pre_generated_steps" in question else 1
        trajectory = _phase2_trajectory(question, label) if phase == 2 else _phase1_trajectory(label)
        earliest_error = _earliest_error(label["finish_reason"], trajectory)
    except _Invalid as invalid:
        return ParsedRecord(locator=locator, errors=invalid.errors)
    except _Skip as skip:
        return ParsedRecord(locator=locator, skip_reason=str(skip))
    item = SolutionInput(
        problem=question["problem"],
        steps=trajectory.steps,
        external_id=external_id_for(record),
        generator=f"prm800k-phase{phase}",
        subset=SUBSET,
        reference_answer=_text(question.get("ground_truth_answer")),
        reference_solution=_text(question.get("ground_truth_solution")),
        final_answer=_text(question.get("pre_generated_answer")),
        label=earliest_error,
        metadata=_metadata(record, label, trajectory, phase),
    )
    return ParsedRecord(locator=locator, item=item)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _question_and_label(record: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    question, label = record.get("question"), record.get("label")
    errors: Errors = {}
    if not isinstance(question, dict):
        errors["question"] = ["Must be a JSON object with the problem."]
    elif not isinstance(question.get("problem"), str):
        errors["question.problem"] = ["This field is required and must be a string."]
    if not isinstance(label, dict):
        errors["label"] = ["Must be a JSON object with steps and finish_reason."]
    else:
        if not isinstance(label.get("steps"), list):
            errors["label.steps"] = ["Must be a list of rated steps."]
        if not isinstance(label.get("finish_reason"), str):
            errors["label.finish_reason"] = ["This field is required and must be a string."]
    if errors or not isinstance(question, dict) or not isinstance(label, dict):
        raise _Invalid(errors)
    return question, label


def _step(number: int) -> str:
    """Name a step as the interface does (1-based "Step N"), with its 0-based index in the record."""
    return f"Step {number + 1} (index {number})"


def _completions(step: Any, number: int) -> list[dict[str, Any]]:
    field = f"label.steps[{number}]"
    if not isinstance(step, dict):
        raise _Invalid({field: ["Must be a JSON object."]})
    completions = step.get("completions")
    if not isinstance(completions, list) or not all(isinstance(c, dict) for c in completions):
        raise _Invalid({f"{field}.completions": ["Must be a list of completion objects."]})
    return completions


def _rating(completion: dict[str, Any], field: str) -> int | None:
    rating = completion.get("rating")
    if rating is not None and (isinstance(rating, bool) or rating not in (-1, 0, 1)):
        raise _Invalid({f"{field}.rating": ["Must be -1, 0, 1 or null."]})
    return rating


def _phase2_trajectory(question: dict[str, Any], label: dict[str, Any]) -> _Trajectory:
    """Return the pre-generated solution with the rating of each of its labelled steps."""
    steps = question.get("pre_generated_steps")
    if not isinstance(steps, list) or not all(isinstance(step, str) for step in steps):
        raise _Invalid({"question.pre_generated_steps": ["Must be a list of strings."]})
    if len(label["steps"]) > len(steps):
        raise _Invalid({"label.steps": [f"Has {len(label['steps'])} steps; the solution has only {len(steps)}."]})
    ratings: list[int | None] = []
    for number, step in enumerate(label["steps"]):
        completions = _completions(step, number)
        if not completions or completions[0].get("text") != steps[number]:
            raise _Skip(f"{_step(number)} was relabelled with a different text, so the pre-generated solution diverges")
        ratings.append(_rating(completions[0], f"label.steps[{number}].completions[0]"))
    unlabelled_from = len(ratings) if len(ratings) < len(steps) else None
    return _Trajectory(steps=list(steps), ratings=ratings, human_steps=[], unlabelled_from=unlabelled_from)


def _phase1_trajectory(label: dict[str, Any]) -> _Trajectory:
    """Return the labeler's path: chosen completions, human completions, and the step that ended it."""
    steps: list[str] = []
    ratings: list[int | None] = []
    human_steps: list[int] = []
    unlabelled_from = None
    for number, step in enumerate(label["steps"]):
        completions = _completions(step, number)
        chosen, human = step.get("chosen_completion"), step.get("human_completion")
        field = f"label.steps[{number}]"
        if chosen is not None:
            if isinstance(chosen, bool) or not isinstance(chosen, int) or not 0 <= chosen < len(completions):
                raise _Invalid({f"{field}.chosen_completion": [f"Must be null or 0..{len(completions) - 1}."]})
            picked, rating = completions[chosen], _rating(completions[chosen], f"{field}.completions[{chosen}]")
        elif isinstance(human, dict):
            picked, rating = human, None
            human_steps.append(number)
        else:
            rejected = [c for c in completions if c.get("rating") == BAD_RATING]
            if not rejected or number != len(label["steps"]) - 1:
                unlabelled_from = number  # the labeler stopped here without choosing: the path ends before it
                break
            picked, rating = rejected[0], BAD_RATING
        if not isinstance(picked.get("text"), str):
            raise _Invalid({f"{field}.completions": ["The chosen completion has no text."]})
        steps.append(picked["text"])
        ratings.append(rating)
    if not steps:
        raise _Skip("no step was chosen or written by the labeler")
    return _Trajectory(steps=steps, ratings=ratings, human_steps=human_steps, unlabelled_from=unlabelled_from)


def _earliest_error(finish_reason: str, trajectory: _Trajectory) -> int:
    """Return the first step rated -1, or -1 for a finished solution with every step rated."""
    first_bad = next((n for n, rating in enumerate(trajectory.ratings) if rating == BAD_RATING), None)
    if finish_reason == "found_error":
        if first_bad is None:
            raise _Skip("finish_reason is found_error but no step of the solution is rated -1")
        return first_bad
    if finish_reason != "solution":
        raise _Skip(
            f"finish_reason is {finish_reason!r} (the labeler did not finish), so there is no trustworthy label"
        )
    if first_bad is not None:
        return first_bad
    if trajectory.unlabelled_from is not None:
        raise _Skip(f"finish_reason is solution but {_step(trajectory.unlabelled_from)} was neither rated nor written")
    unrated = [n for n, r in enumerate(trajectory.ratings) if r is None and n not in trajectory.human_steps]
    if unrated:
        raise _Skip(f"{_step(unrated[0])} is not rated")
    return -1


def _metadata(record: dict[str, Any], label: dict[str, Any], trajectory: _Trajectory, phase: int) -> dict[str, Any]:
    question = record["question"]
    metadata: dict[str, Any] = {
        "source": "prm800k",
        "phase": phase,
        "labeler": record.get("labeler"),
        "timestamp": record.get("timestamp"),
        "generation": record.get("generation"),
        "finish_reason": label["finish_reason"],
        "total_time_ms": label.get("total_time"),
        "is_quality_control_question": record.get("is_quality_control_question"),
        "is_initial_screening_question": record.get("is_initial_screening_question"),
        "step_ratings": trajectory.ratings,
    }
    if trajectory.human_steps:
        metadata["human_steps"] = trajectory.human_steps
    if "pre_generated_verifier_score" in question:
        metadata["pre_generated_verifier_score"] = question["pre_generated_verifier_score"]
    return metadata
