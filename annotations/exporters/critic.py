"""Critic data formats (pure): `critique` (conversational SFT records) and `step_feedback` (Math-Minos style).

Both take the export's critique source: `human` (the final label's explanation when people wrote it:
provenance `human` or `reviewer`), `judge` (the newest succeeded judge critique whose verdict, the last
`\\boxed{}`, equals the final label: human-filtered distillation data) or `both` (a row of each, when
there is one). Every row names its `source`. A solution without what the source asks for gives no row
and is counted in the card's skipped rows, never exported with an empty explanation.

`critique`: the user turn is ProcessBench's critique prompt (`prmweb.core.critique`, exactly as its
`run_eval.py` builds it) with the problem and the tagged paragraphs; the assistant turn is the
explanation followed by `\\boxed{k}` (k the final label, -1 when all steps are correct). A judge
critique is kept verbatim: it already ends with its verdict, which equals k. Prompt and completion are
lists of chat messages, TRL's conversational prompt-completion format (`SFTTrainer` trains on the
completion only).

`step_feedback`: the steps up to and including the earliest error, each with its verdict (`correct` /
`incorrect`) and feedback where there is one (the explanation on the error step; people's notes on the
other steps), plus the error type and the whole explanation.
"""

from collections.abc import Callable, Mapping
from typing import Any

from annotations.critique import step_notes_as_mapping
from annotations.exporters.base import FormattedRows, Formatter
from annotations.exporters.records import FinalLabelRecord, JudgeCritiqueRecord, SolutionRecord, training_steps
from annotations.exporters.schema import INT64, STRING, Columns, ListOf, Struct
from prmweb.core.critique import critique_prompt, parse_verdict

CRITIQUE_SOURCES = ("human", "judge", "both")
PEOPLE_SOURCES = ("human", "reviewer")
NO_PEOPLE_EXPLANATION = "no explanation written by people"
NO_PEOPLE_CRITIQUE = "no explanation or error type given by people"
NO_JUDGE_CRITIQUE = "no judge critique agreeing with the final label"


def assistant_turn(explanation: str, label: int) -> str:
    """Return the assistant's answer: the explanation, a blank line, then `\\boxed{label}`."""
    return f"{explanation.strip()}\n\n\\boxed{{{label}}}"


def _final(row: SolutionRecord) -> FinalLabelRecord:
    if row.final_label is None:  # Formatter.records keeps only rows with a final label
        raise ValueError(f"solution {row.solution_id} has no final label")
    return row.final_label


def agreeing_judge_critique(row: SolutionRecord) -> JudgeCritiqueRecord | None:
    """Return the newest judge critique whose label and own verdict both equal the final label."""
    label = _final(row).label
    for item in row.judge_critiques:
        if item.label == label and parse_verdict(item.critique, len(row.steps)) == label:
            return item
    return None


def _by_people(final: FinalLabelRecord) -> bool:
    return final.explanation_source in PEOPLE_SOURCES


def _critique_row(row: SolutionRecord, prompt: str, answer: str, source: str, error_type: str | None) -> dict[str, Any]:
    return {
        "id": row.id,
        "prompt": [{"role": "user", "content": prompt}],
        "completion": [{"role": "assistant", "content": answer}],
        "label": _final(row).label,
        "error_type": error_type,
        "source": source,
        "subset": row.subset,
        "generator": row.generator,
    }


def critique_records(row: SolutionRecord, critique_source: str) -> FormattedRows:
    """Return the solution's conversational critique rows for the chosen source (see the module docstring)."""
    final = _final(row)
    answers: list[tuple[str, str, str | None]] = []  # (assistant turn, source, error type) per row
    skipped: list[str] = []
    if critique_source in ("human", "both"):
        if _by_people(final) and final.explanation.strip():
            answers.append((assistant_turn(final.explanation, final.label), final.explanation_source, final.error_type))
        else:
            skipped.append(NO_PEOPLE_EXPLANATION)
    if critique_source in ("judge", "both"):
        judged = agreeing_judge_critique(row)
        if judged is not None:
            answers.append((judged.critique.strip(), "judge", None))
        else:
            skipped.append(NO_JUDGE_CRITIQUE)
    prompt = critique_prompt(row.problem, row.steps) if answers else ""  # one prompt for both rows
    return FormattedRows([_critique_row(row, prompt, *answer) for answer in answers], skipped)


def _feedback_row(
    row: SolutionRecord, *, explanation: str, notes: Mapping[int, str], error_type: str | None, source: str
) -> dict[str, Any]:
    label = _final(row).label
    steps, correct = training_steps(row.steps, label)
    return {
        "id": row.id,
        "problem": row.problem,
        "steps": [
            {
                "text": text,
                "verdict": "correct" if ok else "incorrect",
                "feedback": (explanation if index == label else notes.get(index)) or None,
            }
            for index, (text, ok) in enumerate(zip(steps, correct, strict=True))
        ],
        "label": label,
        "error_type": error_type,
        "explanation": explanation or None,
        "source": source,
        "subset": row.subset,
        "generator": row.generator,
    }


def step_feedback_records(row: SolutionRecord, critique_source: str) -> FormattedRows:
    """Return the solution's per-step feedback rows for the chosen source (see the module docstring)."""
    final = _final(row)
    records: list[dict[str, Any]] = []
    skipped: list[str] = []
    if critique_source in ("human", "both"):
        if _by_people(final):
            notes = step_notes_as_mapping(list(final.explanation_step_notes))
            explanation, source, error_type = final.explanation.strip(), final.explanation_source, final.error_type
            records.append(
                _feedback_row(row, explanation=explanation, notes=notes, error_type=error_type, source=source)
            )
        else:
            skipped.append(NO_PEOPLE_CRITIQUE)
    if critique_source in ("judge", "both"):
        judged = agreeing_judge_critique(row)
        if judged is not None:
            critique = judged.critique.strip()
            records.append(_feedback_row(row, explanation=critique, notes={}, error_type=None, source="judge"))
        else:
            skipped.append(NO_JUDGE_CRITIQUE)
    return FormattedRows(records, skipped)


def _critic(
    name: str,
    description: str,
    columns: Columns,
    to_records: Callable[[SolutionRecord, str], FormattedRows],
) -> Formatter:
    return Formatter(
        name=name,
        description=description,
        columns=columns,
        requires_final_label=True,
        to_records=to_records,
        critique_sources=CRITIQUE_SOURCES,
    )


_MESSAGES = ListOf(Struct((("role", STRING), ("content", STRING))))
_CRITIQUE_COLUMNS: Columns = (
    ("id", STRING),
    ("prompt", _MESSAGES),
    ("completion", _MESSAGES),
    ("label", INT64),
    ("error_type", STRING),
    ("source", STRING),
    ("subset", STRING),
    ("generator", STRING),
)
_STEP_FEEDBACK_COLUMNS: Columns = (
    ("id", STRING),
    ("problem", STRING),
    ("steps", ListOf(Struct((("text", STRING), ("verdict", STRING), ("feedback", STRING))))),
    ("label", INT64),
    ("error_type", STRING),
    ("explanation", STRING),
    ("source", STRING),
    ("subset", STRING),
    ("generator", STRING),
)


CRITIC_FORMATTERS = (
    _critic(
        "critique",
        "Critic SFT data (TRL conversational prompt-completion): the user turn is ProcessBench's critique prompt "
        "with the tagged steps, the assistant turn the explanation followed by \\boxed{earliest error step}.",
        _CRITIQUE_COLUMNS,
        critique_records,
    ),
    _critic(
        "step_feedback",
        "Step-level feedback (Math-Minos style): the steps up to the earliest error, each with a verdict "
        "(correct / incorrect) and feedback where there is one, plus the error type and the explanation.",
        _STEP_FEEDBACK_COLUMNS,
        step_feedback_records,
    ),
)
