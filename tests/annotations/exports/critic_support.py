"""The critic-export scenario shared by test_critic.py and test_critic_trl.py (fixture `critic_dataset`).

The 30 real records (export_records.json) get their labels through the services: a third by three agreeing
annotators (one explains, with an error type and a note on step 0), a third by a reviewer who writes the
explanation, a third keep only their imported label (no explanation). Every record gets a judge critique;
on even positions its verdict equals the label, on odd ones it does not; one critique says the label in its
suggestion row but boxes another index (it must never be exported).
"""

from annotations.models import Solution
from annotations.services.agreement import solution_evaluate
from annotations.services.exports import export_create, export_run
from annotations.services.review import review_decide
from tests.factories import AnnotationFactory, SuggestionFactory, UserFactory

TAMPERED = "gsm8k-8"  # its judge row says the label, its text boxes another index


def explanation_of(record: dict) -> str:
    label = record["label"]
    if label == -1:
        return f"Every paragraph of {record['id']} checks out."
    return f"Paragraph {label} of {record['id']} is wrong: it does not follow (a \\boxed{{99}} in prose is fine)."


def judge_text(verdict: int) -> str:
    return f"Reviewing each paragraph in turn. The earliest error: {verdict}.\n\n\\boxed{{{verdict}}}"


def other_label(record: dict) -> int:
    return -1 if record["label"] >= 0 else 0


def label_for_critics(pb_dataset, pb_records):
    """Label the 30 records as the module docstring says; return {id: what the exports must show of it}."""
    solutions = {solution.external_id: solution for solution in Solution.objects.filter(dataset=pb_dataset)}
    reviewer = UserFactory(username="rita")
    people = {name: UserFactory(username=name) for name in ("ann", "ben", "cat")}
    plan = {}
    for index, record in enumerate(pb_records):
        solution, label = solutions[record["id"]], record["label"]
        error_type = "calculation" if label >= 0 else None
        source = ("human", "reviewer", None)[index % 3]
        if source == "human":
            for name in ("ann", "ben", "cat"):
                AnnotationFactory(
                    solution=solution,
                    annotator=people[name],
                    earliest_error_step=label,
                    rationale=explanation_of(record) if name == "ann" else "",
                    error_type=error_type,
                    step_notes=[{"step": 0, "note": "Correct but terse."}] if name == "ann" and label != 0 else [],
                )
            assert solution_evaluate(solution_id=solution.pk).status == "final"
        elif source == "reviewer":
            review_decide(solution_id=solution.pk, reviewer=reviewer, label=label, explanation=explanation_of(record))
        verdict = label if index % 2 == 0 else other_label(record)
        text = judge_text(other_label(record) if record["id"] == TAMPERED else verdict)
        SuggestionFactory(solution=solution, method="judge", label=verdict, rationale=text, model_name="judge-72b")
        plan[record["id"]] = {
            "record": record,
            "source": source,
            "error_type": error_type if source == "human" else None,
            "judge": index % 2 == 0 and record["id"] != TAMPERED,
        }
    return plan


def run(dataset, export_format, critique_source=None, **kwargs):
    export = export_create(
        dataset=dataset,
        created_by=None,
        export_format=export_format,
        critique_source=critique_source,
        enqueue=False,
        **kwargs,
    )
    export = export_run(export_id=export.pk)
    assert export.status == "succeeded", export.error
    return export
