"""The `annotations` export read back with `import_solutions --format annotations`: critiques survive the trip.

The source is the critic scenario (critic_support.py): 30 real records, a third finalised by agreeing
annotators who explain, type and note, a third by a reviewer's explanation, a third imported only.
"""

import io
import json
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from annotations.importers.annotations_export import annotations_export_record
from annotations.models import Annotation, Dataset, FinalLabel, Solution
from tests.annotations.exports.critic_support import run
from tests.factories import DatasetFactory, UserFactory

pytestmark = pytest.mark.django_db

ANNOTATION_FIELDS = ("earliest_error_step", "rationale", "error_type", "step_notes", "flag_unsure", "seconds_spent")
CRITIQUE_FIELDS = ("label", "explanation", "error_type", "explanation_source")


def import_export(path, dataset="copy", *args):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import_solutions",
        str(path),
        "--dataset",
        dataset,
        "--format",
        "annotations",
        "--no-progress",
        *args,
        stdout=out,
        stderr=err,
    )
    return out.getvalue().splitlines()[-1]


def labels_of(dataset):
    """Return {external id: (final label critique, explanation annotator, [annotation fields])} of a dataset."""
    finals = FinalLabel.objects.filter(solution__dataset=dataset).select_related(
        "solution", "explanation_annotation__annotator"
    )
    annotations = {}
    for item in Annotation.objects.filter(solution__dataset=dataset).select_related("annotator", "solution"):
        values = (item.annotator.username, *(getattr(item, name) for name in ANNOTATION_FIELDS))
        annotations.setdefault(item.solution.external_id, []).append(values)
    return {
        final.solution.external_id: (
            tuple(getattr(final, name) for name in CRITIQUE_FIELDS),
            final.explanation_annotation.annotator.username if final.explanation_annotation else "",
            sorted(annotations.get(final.solution.external_id, [])),
        )
        for final in finals
    }


@pytest.fixture
def exported(critic_dataset, export_root):
    dataset, plan = critic_dataset
    export = run(dataset, "annotations", split_ratios=[0.7, 0.3, 0])
    return dataset, plan, Path(export.output_dir)


def test_error_types_explanations_and_notes_survive_export_and_import(exported):
    source, plan, folder = exported
    assert import_export(folder, "copy", "--create-dataset") == "created 30, existing 0, rejected 0, annotations 30"
    copy = Dataset.objects.get(slug="copy")
    before, after = labels_of(source), labels_of(copy)
    assert after == before
    human = [key for key, item in plan.items() if item["source"] == "human"]
    assert {after[key][1] for key in human} == {"ann"}  # the explanation still points at ann's annotation
    assert any(after[key][0][2] == "calculation" for key in human)
    assert any(row[4] == [{"step": 0, "note": "Correct but terse."}] for key in human for row in after[key][2])
    final = FinalLabel.objects.get(solution__dataset=copy, solution__external_id=human[0])
    assert final.source == "imported"
    assert final.note.startswith("Imported from an annotations export (unanimous label, agreement 1.000")
    statuses = dict(Solution.objects.filter(dataset=copy).values_list("external_id", "status"))
    assert {statuses[key] for key, item in plan.items() if item["source"]} == {"final"}
    assert {statuses[key] for key, item in plan.items() if not item["source"]} == {"open"}


def test_the_copy_exports_the_same_critique_rows(exported, export_root):
    source, _, folder = exported
    import_export(folder, "copy", "--create-dataset")
    copy = Dataset.objects.get(slug="copy")

    def rows(dataset):
        export = run(dataset, "critique", split_ratios=[1, 0, 0])
        lines = Path(export.output_dir, "data", "train-00000-of-00001.jsonl").read_text().splitlines()
        return sorted((json.loads(line) for line in lines), key=lambda row: row["id"])

    assert rows(copy) == rows(source)


def test_a_second_import_finds_everything_and_adds_nothing(exported):
    _, _, folder = exported
    import_export(folder, "copy", "--create-dataset")
    count = Annotation.objects.count()
    assert import_export(folder, "copy") == "created 0, existing 30, rejected 0"
    assert Annotation.objects.count() == count


def test_a_gzipped_data_file_imports_alone(critic_dataset, export_root):
    dataset, _ = critic_dataset
    export = run(dataset, "annotations", file_format="jsonl.gz", split_ratios=[1, 0, 0])
    data_file = Path(export.output_dir, "data", "train-00000-of-00001.jsonl.gz")
    DatasetFactory(slug="copy")
    assert import_export(data_file) == "created 30, existing 0, rejected 0, annotations 30"


def _rename_annotators(folder: Path, tmp_path: Path) -> Path:
    lines = []
    for path in sorted(folder.glob("data/*.jsonl")):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            for item in record["annotations"]:
                item["annotator"] = "zoe-" + item["annotator"]
            if record["final_label"] and record["final_label"]["explanation_annotator"]:
                record["final_label"]["explanation_annotator"] = "zoe-ann"
            lines.append(json.dumps(record))
    target = tmp_path / "elsewhere.jsonl"
    target.write_text("\n".join(lines) + "\n")
    return target


def test_annotators_unknown_here_are_refused_or_created_inactive(exported, tmp_path):
    _, _, folder = exported
    moved = _rename_annotators(folder, tmp_path)
    DatasetFactory(slug="copy")
    err = io.StringIO()
    with pytest.raises(CommandError) as refused:
        call_command(
            "import_solutions", str(moved), "--dataset", "copy", "--format", "annotations", "--no-progress", stderr=err
        )
    assert str(refused.value) == f"{moved}: 10 invalid records; nothing was stored."
    assert (
        "annotations[0].annotator: No account with this username here; create it first, or import with "
        "--create-annotators."
    ) in err.getvalue()
    assert not Solution.objects.filter(dataset__slug="copy").exists()
    line = import_export(moved, "copy", "--create-annotators")
    assert line == (
        "created 30, existing 0, rejected 0, annotations 30, inactive accounts created for zoe-ann, zoe-ben, zoe-cat"
    )
    zoe = get_user_model().objects.get(username="zoe-ann")
    assert (zoe.is_active, zoe.has_usable_password()) == (False, False)
    final = FinalLabel.objects.filter(solution__dataset__slug="copy", explanation_source="human").first()
    assert final.explanation_annotation.annotator == zoe


def test_error_types_the_new_dataset_lacks_are_refused_naming_the_field(exported):
    _, _, folder = exported
    DatasetFactory(slug="copy", error_types=[{"slug": "logic", "title": "Logic", "key": "l"}])
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_solutions", str(folder), "--dataset", "copy", "--format", "annotations", "--no-progress", stderr=err
        )
    assert (
        "annotations[0].error_type: Unknown error type 'calculation'; this dataset's types are: logic."
        in err.getvalue()
    )
    assert "final_label.error_type: Unknown error type 'calculation'" in err.getvalue()
    assert not Solution.objects.filter(dataset__slug="copy").exists()


def test_a_folder_of_another_format_is_refused(critic_dataset, export_root):
    dataset, _ = critic_dataset
    export = run(dataset, "trl")
    DatasetFactory(slug="copy")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_solutions",
            export.output_dir,
            "--dataset",
            "copy",
            "--format",
            "annotations",
            "--no-progress",
            stderr=err,
        )
    assert f"file: {export.output_dir} holds a 'trl' export; only an annotations export can be imported." in (
        err.getvalue()
    )


RECORD = {
    "id": "x-1",
    "problem": "What is 1 + 1?",
    "steps": ["1 + 1 = 3", "So \\boxed{3}."],
    "final_label": {"label": 0, "source": "unanimous", "explanation": "1 + 1 is 2.", "error_type": "calculation"},
    "annotations": [{"annotator": "ann", "earliest_error_step": 0, "rationale": "1 + 1 is 2."}],
}


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        (
            {"annotations": [{"annotator": "ann", "earliest_error_step": 5}]},
            {"annotations[0].earliest_error_step": ["Must be -1 (all steps correct) or a step index from 0 to 1."]},
        ),
        (
            {"annotations": [{"annotator": "ann", "earliest_error_step": -1, "error_type": "logic"}]},
            {"annotations[0].error_type": ["Only a marked step takes an error type."]},
        ),
        (
            {
                "annotations": [
                    {"annotator": "a", "earliest_error_step": 0},
                    {"annotator": "a", "earliest_error_step": 1},
                ]
            },
            {"annotations[1].annotator": ["'a' appears twice."]},
        ),
        (
            {"annotations": [{"annotator": "a", "earliest_error_step": 0, "step_notes": [{"step": 0, "note": "x"}]}]},
            {"annotations[0].step_notes": ["Step index 0 is the marked step: its explanation goes in the rationale."]},
        ),
        (
            {"final_label": {"label": "0", "explanation_source": "me"}},
            {"final_label.label": ["Must be an integer: -1 (all steps correct) or a step index."]},
        ),
        (
            {"final_label": {"label": 1, "explanation_source": "me"}},
            {"final_label.explanation_source": ["Must be one of: human, reviewer, judge, or empty."]},
        ),
        (
            {"stars": 5},
            {
                "stars": [
                    "Unknown field. Allowed fields: "
                    + ", ".join(
                        (
                            "id",
                            "problem",
                            "steps",
                            "generator",
                            "subset",
                            "reference_answer",
                            "final_answer",
                            "solution_id",
                            "final_answer_correct",
                            "imported_label",
                            "final_label",
                            "annotations",
                            "suggestions",
                        )
                    )
                    + "."
                ]
            },
        ),
    ],
)
def test_a_bad_record_names_each_field(change, errors):
    parsed = annotations_export_record({**RECORD, **change}, "line 1")
    assert parsed.errors == errors
    assert parsed.locator == "line 1 (id x-1)"


def test_a_good_record_becomes_a_solution_with_its_labels():
    parsed = annotations_export_record(RECORD, "line 1")
    assert parsed.errors == {}
    assert (parsed.item.external_id, parsed.item.label, parsed.item.steps) == ("x-1", 0, RECORD["steps"])
    assert parsed.labels.final_label.explanation == "1 + 1 is 2."
    assert [(a.annotator, a.earliest_error_step, a.rationale) for a in parsed.labels.annotations] == [
        ("ann", 0, "1 + 1 is 2.")
    ]


def test_a_solution_without_a_final_label_goes_through_the_protocol_with_its_annotations(tmp_path):
    for name in ("ann", "ben", "cat"):
        UserFactory(username=name)
    DatasetFactory(slug="copy")
    votes = [("ann", "1 + 1 is 2, not 3.", "calculation"), ("ben", "", "calculation"), ("cat", "Wrong sum.", "logic")]
    record = {
        **RECORD,
        "final_label": None,
        "annotations": [
            {"annotator": name, "earliest_error_step": 0, "rationale": text, "error_type": error_type}
            for name, text, error_type in votes
        ],
    }
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(record) + "\n")
    assert import_export(path) == "created 1, existing 0, rejected 0, annotations 3"
    final = FinalLabel.objects.select_related("solution", "explanation_annotation__annotator").get()
    assert (final.source, final.label, final.explanation, final.error_type, final.explanation_source) == (
        "unanimous",
        0,
        "1 + 1 is 2, not 3.",
        "calculation",
        "human",
    )
    assert (final.solution.status, final.solution.annotation_count) == ("final", 3)
    assert final.explanation_annotation.annotator.username == "ann"
