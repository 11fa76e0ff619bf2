"""File importers on real ProcessBench and PRM800K records: parsing, the command, all-or-nothing, idempotency."""

import io
import json
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from annotations.importers import base as importers_base
from annotations.importers.prm800k import parse_prm800k, prm800k_record
from annotations.importers.processbench import parse_processbench
from annotations.models import Dataset, FinalLabel, FinalLabelSource, Problem, Solution
from tests.factories import DatasetFactory, UserFactory

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
GSM8K = FIXTURES / "processbench" / "gsm8k.json"
MATH_SAMPLE = FIXTURES / "processbench" / "math_sample.json"
ANSWERS = FIXTURES / "processbench" / "reference_answers.json"
PRM800K = FIXTURES / "prm800k"

pytestmark = pytest.mark.django_db


def run_import(path, *args, dataset="bench"):
    """Run import_solutions; return (stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    call_command("import_solutions", str(path), "--dataset", dataset, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_failing_import(path, *args, dataset="bench"):
    """Run import_solutions expecting failure; return (error message, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("import_solutions", str(path), "--dataset", dataset, *args, stdout=out, stderr=err)
    return str(failure.value), out.getvalue(), err.getvalue()


@pytest.mark.parametrize("size", ["0", "-5", "10001", "many"])
def test_a_chunk_size_out_of_range_is_refused_not_clamped(size):
    """`--chunk-size 0` used to be taken as 1 (and 50000 as the batch limit) without a word."""
    with pytest.raises(CommandError) as failure:
        run_import(GSM8K, "--format", "processbench", "--chunk-size", size)
    assert str(failure.value) == (
        f"Error: argument --chunk-size: must be a whole number from 1 to 10000 (got {size!r})"
    )
    assert Solution.objects.count() == 0


def write_json(tmp_path, name, value):
    path = tmp_path / name
    path.write_text(json.dumps(value), encoding="utf-8")
    return path


# --- ProcessBench --------------------------------------------------------------------------------------


def test_processbench_gsm8k_stores_400_solutions_with_labels_and_a_second_import_adds_none():
    source = json.loads(GSM8K.read_text(encoding="utf-8"))

    out, err = run_import(GSM8K, "--format", "processbench", "--answers", ANSWERS, "--create-dataset")

    assert out.splitlines()[-1] == "created 400, existing 0, rejected 0"
    assert "importing" in err  # the progress bar
    dataset = Dataset.objects.get(slug="bench")
    stored = {s.external_id: s for s in Solution.objects.filter(dataset=dataset).select_related("problem")}
    assert len(stored) == 400
    for record in source:
        solution = stored[record["id"]]
        assert solution.steps == record["steps"]
        assert solution.imported_label == record["label"]
        assert solution.final_answer_correct is record["final_answer_correct"]
        assert solution.generator == record["generator"]
        assert solution.subset == "gsm8k"
        assert solution.problem.text == record["problem"]
    assert FinalLabel.objects.filter(solution__dataset=dataset, source=FinalLabelSource.IMPORTED).count() == 400
    assert Counter(label < 0 for label in Solution.objects.values_list("imported_label", flat=True)) == {
        True: 193,
        False: 207,
    }
    assert stored["gsm8k-0"].problem.reference_answer == "24"

    out, _ = run_import(GSM8K, "--format", "processbench", "--answers", ANSWERS, "--no-progress")

    assert out.splitlines()[-1] == "created 0, existing 400, rejected 0"
    assert Solution.objects.count() == 400
    assert FinalLabel.objects.count() == 400


def test_answer_check_agrees_with_processbench_on_real_records(django_capture_on_commit_callbacks):
    """The math-verify check against GSM8K/MATH reference answers reproduces ProcessBench's verdicts.

    Measured when written: gsm8k 396/400 agree (198/200 of the records marked correct pass the check;
    gsm8k-238 and gsm8k-319 end in prose without the number, and gsm8k-70/74 box the reference answer
    but ProcessBench marks them incorrect); math sample 50/50 (on the whole math subset 989/1000: the
    misses are mostly answers ProcessBench marks incorrect although they are equal but unreduced, e.g.
    411/333 for 137/111). The thresholds leave room for a record or two of drift in math-verify, not for a
    broken checker: comparing formulas by a text fragment (6\\sqrt{3} = 6\\sqrt{7}) fell to 96% on math.
    """
    with django_capture_on_commit_callbacks(execute=True):
        run_import(GSM8K, "--format", "processbench", "--answers", ANSWERS, "--create-dataset", "--no-progress")
    with django_capture_on_commit_callbacks(execute=True):
        run_import(MATH_SAMPLE, "--format", "processbench", "--answers", ANSWERS, "--no-progress")

    for subset, minimum_agreement, minimum_recall in (("gsm8k", 0.98, 0.98), ("math", 0.96, 0.96)):
        rows = list(Solution.objects.filter(subset=subset).values_list("final_answer_correct", "answer_check"))
        assert all(check is not None for _, check in rows)
        agreement = sum(source == check for source, check in rows) / len(rows)
        marked_correct = [check for source, check in rows if source]
        recall = sum(marked_correct) / len(marked_correct)
        assert agreement >= minimum_agreement, (subset, agreement)
        assert recall >= minimum_recall, (subset, recall)
    # the extracted final answer is stored, and the source's verdict is never overwritten
    solution = Solution.objects.get(external_id="gsm8k-70")
    assert (solution.final_answer, solution.answer_check, solution.final_answer_correct) == ("59", True, False)


def test_processbench_without_answers_leaves_reference_blank():
    records = list(parse_processbench(io.StringIO(MATH_SAMPLE.read_text(encoding="utf-8"))))
    assert len(records) == 50
    assert all(record.item and record.item.reference_answer == "" and not record.errors for record in records)


def test_invalid_records_store_nothing_and_every_reason_is_printed(tmp_path):
    source = json.loads(GSM8K.read_text(encoding="utf-8"))[:6]
    source[2]["steps"][1] = "   "
    source[4]["label"] = 99
    del source[5]["problem"]
    path = write_json(tmp_path, "bad.json", source)

    message, out, err = run_failing_import(
        path, "--format", "processbench", "--create-dataset", "--chunk-size", "2", "--no-progress"
    )

    assert message == f"{path}: 3 invalid records; nothing was stored."
    assert out.splitlines()[-1] == "created 0, existing 0, rejected 3 (nothing was stored)"
    assert err.splitlines() == [
        "rejected record 2 (id gsm8k-2): steps[1]: This field may not be blank.",
        f"rejected record 4 (id gsm8k-4): label: Must be -1 (all steps correct) or a step index from 0 to "
        f"{len(source[4]['steps']) - 1}.",
        "rejected record 5 (id gsm8k-5): problem: This field is required.",
    ]
    # records 0 and 1 formed a full chunk before the first bad record: rolled back with the rest,
    # and so was the dataset --create-dataset made
    assert Solution.objects.count() == 0
    assert Problem.objects.count() == 0
    assert not Dataset.objects.exists()


def test_a_bad_record_at_the_end_rolls_back_chunks_already_stored(tmp_path, django_capture_on_commit_callbacks):
    source = json.loads(GSM8K.read_text(encoding="utf-8"))[:5]
    source.append({"id": "gsm8k-0", "problem": "Duplicate", "steps": ["x"], "label": -1})
    path = write_json(tmp_path, "dup.json", source)
    DatasetFactory(slug="bench")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _, _, err = run_failing_import(path, "--format", "processbench", "--chunk-size", "2", "--no-progress")

    assert (
        err.strip()
        == "rejected record 5 (id gsm8k-0): id: Duplicate id 'gsm8k-0' in this file (also record 0 (id gsm8k-0))."
    )
    assert Solution.objects.count() == 0
    assert callbacks == []  # no answer check or scoring is enqueued for rolled-back solutions


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "rejected file: file: Not valid JSON at line 1, column 2: Expecting property name"),
        ('{"id": "x"}', "rejected file: file: A ProcessBench file is one JSON array of records."),
        ('[1, {"id": 2, "problem": "p", "steps": ["s"], "label": -1}]', "rejected record 0: non_field_errors"),
    ],
)
def test_unreadable_processbench_files_are_rejected_with_a_reason(tmp_path, content, expected):
    path = tmp_path / "broken.json"
    path.write_text(content, encoding="utf-8")

    _, _, err = run_failing_import(path, "--format", "processbench", "--create-dataset", "--no-progress")

    assert err.startswith(expected)
    assert Solution.objects.count() == 0


def test_record_ids_must_be_strings(tmp_path):
    path = write_json(tmp_path, "ids.json", [{"id": 2, "problem": "p", "steps": ["s"], "label": -1}])

    _, _, err = run_failing_import(path, "--format", "processbench", "--create-dataset", "--no-progress")

    assert err.strip() == "rejected record 0: id: Must be a string."


def test_answers_file_must_be_an_object_of_strings(tmp_path):
    answers = write_json(tmp_path, "answers.json", ["24"])

    message, _, _ = run_failing_import(GSM8K, "--format", "processbench", "--answers", answers, "--create-dataset")

    assert message == (
        f"--answers {answers}: The answers file must be one JSON object mapping record ids to reference answers."
    )
    assert not Dataset.objects.exists()


def test_command_arguments_are_checked(tmp_path):
    message, _, _ = run_failing_import(GSM8K, "--format", "processbench")
    assert message == "Dataset 'bench' does not exist; create it first or pass --create-dataset."

    message, _, _ = run_failing_import(GSM8K, "--format", "jsonl", "--answers", ANSWERS, "--create-dataset")
    assert message == "--answers applies to --format processbench only."

    message, _, _ = run_failing_import(tmp_path / "missing.json", "--format", "jsonl", "--create-dataset")
    assert message == f"{tmp_path / 'missing.json'}: no such file."

    message, _, _ = run_failing_import(GSM8K, "--format", "processbench", "--create-dataset", dataset="not a slug")
    assert message.startswith("--dataset 'not a slug': Enter a valid “slug”")
    assert not Dataset.objects.exists()


# --- PRM800K ------------------------------------------------------------------------------------------


def test_prm800k_phase2_records_use_the_pre_generated_solution_and_the_first_step_rated_bad(
    django_capture_on_commit_callbacks,
):
    path = PRM800K / "prm800k-phase2-train-example.jsonl"

    with django_capture_on_commit_callbacks(execute=True):
        out, _ = run_import(path, "--format", "prm800k", "--create-dataset", "--no-progress")

    assert out.splitlines()[-1] == "created 9, existing 0, rejected 0"
    labels = sorted(Solution.objects.values_list("num_steps", "imported_label"))
    assert labels == sorted([(13, 6), (19, 18), (24, 2), (14, 1), (26, 2), (26, 10), (16, 1), (27, 25), (12, 2)])
    first = json.JSONDecoder().raw_decode(path.read_text(encoding="utf-8"))[0]
    solution = Solution.objects.select_related("problem").get(num_steps=13)
    assert solution.steps == first["question"]["pre_generated_steps"]
    assert solution.problem.reference_answer == "28800"
    assert solution.problem.reference_solution == first["question"]["ground_truth_solution"]
    assert solution.final_answer == "7200"
    assert (solution.answer_check, solution.final_answer_correct) == (False, False)
    assert solution.generator == "prm800k-phase2"
    assert solution.metadata["finish_reason"] == "found_error"
    assert solution.metadata["step_ratings"] == [1, 0, 1, 1, 1, 1, -1]
    assert FinalLabel.objects.get(solution=solution).label == 6


def test_prm800k_phase1_trajectory_takes_chosen_and_human_steps_and_skips_give_ups():
    out, _ = run_import(
        PRM800K / "prm800k-phase1-train-example.json", "--format", "prm800k", "--create-dataset", "--no-progress"
    )

    assert out.splitlines() == [
        "Created dataset 'bench' (no members yet: add them with add_member).",
        "record 1 (line 129): skipped: finish_reason is 'give_up' (the labeler did not finish), "
        "so there is no trustworthy label",
        "created 2, existing 0, rejected 0, skipped 1",
    ]
    solution = Solution.objects.get(problem__reference_answer="29")
    assert solution.imported_label == -1
    assert solution.steps[1] == "We have $3p+e=1.24$ and $5p+e=1.82$."  # the labeler's own step
    assert solution.metadata["human_steps"] == [1]
    assert solution.steps[5].endswith("# Answer\n\n29")


def test_prm800k_same_labelling_in_two_files_is_stored_once():
    run_import(PRM800K / "prm800k-phase2-test-example.json", "--format", "prm800k", "--create-dataset")
    out, _ = run_import(PRM800K / "prm800k-phase2-train-example.jsonl", "--format", "prm800k", "--no-progress")
    assert out.splitlines()[-1] == "created 8, existing 1, rejected 0"

    run_import(PRM800K / "prm800k-phase1-test-example.json", "--format", "prm800k")
    out, _ = run_import(PRM800K / "prm800k-phase1-train-example.json", "--format", "prm800k", "--no-progress")
    assert out.splitlines()[-1] == "created 1, existing 1, rejected 0, skipped 1"
    assert Solution.objects.count() == 11


def _prm800k_records():
    text = (PRM800K / "prm800k-phase2-train-example.jsonl").read_text(encoding="utf-8")
    return [record.item for record in parse_prm800k(io.StringIO(text))]


def test_prm800k_reads_json_lines_and_chunk_boundaries_alike(monkeypatch):
    pretty = _prm800k_records()
    lines = [json.loads(line) for line in [json.dumps(item) for item in _raw_prm800k()]]
    compact = "\n".join(json.dumps(record) for record in lines) + "\n"

    monkeypatch.setattr(importers_base, "READ_CHUNK_CHARS", 97)
    assert [record.item for record in parse_prm800k(io.StringIO(compact))] == pretty
    assert _prm800k_records() == pretty


def _raw_prm800k():
    decoder, text, position, records = json.JSONDecoder(), "", 0, []
    text = (PRM800K / "prm800k-phase2-train-example.jsonl").read_text(encoding="utf-8")
    while position < len(text):
        record, position = decoder.raw_decode(text, position)
        records.append(record)
        while position < len(text) and text[position].isspace():
            position += 1
    return records


def test_prm800k_broken_and_unlabelled_records(tmp_path):
    found_error = _raw_prm800k()[0]
    found_error["label"]["steps"][-1]["completions"][0]["rating"] = 1
    bad_choice = json.loads(json.dumps(_raw_prm800k()[1]))
    del bad_choice["question"]["pre_generated_steps"]
    bad_choice["label"]["steps"][0]["chosen_completion"] = 7
    no_problem = {"question": {}, "label": {"steps": [], "finish_reason": "solution"}}
    path = tmp_path / "broken.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in (found_error, bad_choice, no_problem)) + "\n{oops", "utf-8")

    _, out, err = run_failing_import(path, "--format", "prm800k", "--create-dataset", "--no-progress")

    assert err.splitlines() == [
        "rejected record 1 (line 2): label.steps[0].chosen_completion: Must be null or 0..0.",
        "rejected record 2 (line 3): question.problem: This field is required and must be a string.",
        "rejected record 3: file: Not valid JSON at line 4: Expecting property name enclosed in double quotes.",
    ]
    assert out.splitlines() == [
        "record 0 (line 1): skipped: finish_reason is found_error but no step of the solution is rated -1",
        "created 0, existing 0, rejected 3, skipped 1 (nothing was stored)",
    ]
    assert Solution.objects.count() == 0


@pytest.mark.parametrize(
    "change, reason",
    [
        ("unrated", "Step 2 (index 1) is not rated"),
        ("unlabelled", "finish_reason is solution but Step 8 (index 7) was neither rated nor written"),
        ("relabelled", "Step 1 (index 0) was relabelled with a different text, so the pre-generated"),
    ],
)
def test_prm800k_skip_reasons_name_steps_as_the_interface_does(change, reason):
    """The UI says "Step 1" for the first step: a skip reason saying "step 0" pointed at the wrong one."""
    record = json.loads(json.dumps(_raw_prm800k()[0]))
    label = record["label"]
    label["finish_reason"] = "solution"
    for step in label["steps"]:
        step["completions"][0]["rating"] = 1
    if change != "unlabelled":  # the record's 7 labelled steps are the whole solution
        del record["question"]["pre_generated_steps"][len(label["steps"]) :]
    if change == "unrated":
        label["steps"][1]["completions"][0]["rating"] = None
    elif change == "relabelled":
        label["steps"][0]["completions"][0]["text"] = "A different first step."
    parsed = prm800k_record(0, 1, record)
    assert parsed.item is None and parsed.skip_reason.startswith(reason), parsed


# --- prmweb JSON Lines ----------------------------------------------------------------------------------


def test_jsonl_imports_the_rest_api_fields(tmp_path):
    lines = [
        {
            "id": "ext-1",
            "problem": "What is 6 * 7?",
            "steps": ["6 * 7 = 42.", "The answer is \\boxed{42}."],
            "generator": "demo-model",
            "subset": "arith",
            "reference_answer": "42",
            "label": -1,
            "metadata": {"batch": 3},
        },
        {"problem": "What is 2 + 2?", "steps": ["2 + 2 = 5."], "final_answer_correct": False, "label": 0},
    ]
    path = tmp_path / "mine.jsonl"
    path.write_text(json.dumps(lines[0]) + "\n\n" + json.dumps(lines[1]) + "\n", encoding="utf-8")

    out, _ = run_import(path, "--format", "jsonl", "--create-dataset", "--no-progress")
    again, _ = run_import(path, "--format", "jsonl", "--no-progress")

    assert out.splitlines()[-1] == "created 2, existing 0, rejected 0"
    assert again.splitlines()[-1] == "created 0, existing 2, rejected 0"
    first = Solution.objects.select_related("problem").get(external_id="ext-1")
    assert (first.generator, first.subset, first.metadata, first.imported_label) == (
        "demo-model",
        "arith",
        {"batch": 3},
        -1,
    )
    assert first.problem.reference_answer == "42"
    second = Solution.objects.get(external_id="")
    assert (second.steps, second.imported_label, second.final_answer_correct) == (["2 + 2 = 5."], 0, False)


def test_jsonl_reports_bad_lines_by_number(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"problem": "p", "steps": ["s"]}\n'
        '{"problem": "p", "steps": ["s"], "colour": "red"}\n'
        "not json\n"
        '{"id": "a", "problem": "q", "steps": []}\n',
        encoding="utf-8",
    )

    _, out, err = run_failing_import(path, "--format", "jsonl", "--create-dataset", "--no-progress")

    assert err.splitlines()[0].startswith(
        "rejected line 2: colour: Unknown field. Allowed fields: problem, steps, response"
    )
    assert err.splitlines()[1:] == [
        "rejected line 3: line: Not valid JSON: Expecting value (column 1).",
        "rejected line 4 (id a): steps: Must be a non-empty list of non-empty strings.",
    ]
    assert out.splitlines()[-1] == "created 0, existing 0, rejected 3 (nothing was stored)"
    assert Solution.objects.count() == 0


def test_the_command_records_the_user_it_is_told_ingested_the_solutions(tmp_path):
    importer = UserFactory(username="importer")
    path = tmp_path / "who.jsonl"
    path.write_text(json.dumps({"id": "w-1", "problem": "1 + 1?", "steps": ["\\boxed{2}"]}) + "\n", encoding="utf-8")

    run_import(path, "--format", "jsonl", "--create-dataset", "--no-progress", "--user", "importer")
    message, _, _ = run_failing_import(path, "--format", "jsonl", "--no-progress", "--user", "nobody")

    assert Solution.objects.get(external_id="w-1").ingested_by == importer
    assert message == "--user 'nobody': no such user; create the account first."


def test_without_a_user_the_command_records_nobody(tmp_path):
    path = tmp_path / "anon.jsonl"
    path.write_text(json.dumps({"id": "a-1", "problem": "1 + 1?", "steps": ["\\boxed{2}"]}) + "\n", encoding="utf-8")
    run_import(path, "--format", "jsonl", "--create-dataset", "--no-progress")
    assert Solution.objects.get(external_id="a-1").ingested_by is None
