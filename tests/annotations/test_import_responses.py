"""import_solutions --format responses and --format openai-batch, on files in the shapes the tools write."""

import json
from pathlib import Path

import pytest

from annotations.models import Dataset, Solution
from tests.annotations.test_importers import run_failing_import, run_import

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BATCH = FIXTURES / "batch"
GSM8K = {r["id"]: r for r in json.loads((FIXTURES / "processbench" / "gsm8k.json").read_text(encoding="utf-8"))}
MATH = {r["id"]: r for r in json.loads((FIXTURES / "processbench" / "math_sample.json").read_text(encoding="utf-8"))}
PROBLEMS = str(BATCH / "problems.jsonl")

pytestmark = pytest.mark.django_db


def _stored() -> dict[str, Solution]:
    return {s.external_id: s for s in Solution.objects.select_related("problem")}


def _write_lines(tmp_path, name, lines):
    path = tmp_path / name
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


# --- responses --------------------------------------------------------------------------------------------


def test_responses_import_into_their_paragraphs_and_a_second_import_adds_none():
    out, err = run_import(BATCH / "responses.jsonl", "--format", "responses", "--create-dataset")

    assert out.splitlines()[-1] == "created 6, existing 0, rejected 0"
    assert "importing" in err
    stored = _stored()
    for record_id, record in {**GSM8K, **MATH}.items():
        if record_id in {"gsm8k-0", "gsm8k-1", "gsm8k-2", "math-0", "math-20"}:
            solution = stored[record_id]
            assert solution.steps == record["steps"], record_id
            assert solution.response == "\n\n".join(record["steps"])
            assert (solution.segmentation, solution.generator) == ("paragraphs", record["generator"])
            assert solution.metadata == {"processbench_label": record["label"]}
    assert stored["gsm8k-0"].problem.reference_answer == "24"
    assert stored[""].steps == GSM8K["gsm8k-3"]["steps"]

    out, _ = run_import(BATCH / "responses.jsonl", "--format", "responses", "--no-progress")

    assert out.splitlines()[-1] == "created 0, existing 6, rejected 0"
    assert Solution.objects.count() == 6


def test_responses_follow_the_segmentation_option_unless_a_record_names_its_own(tmp_path):
    path = _write_lines(
        tmp_path,
        "r.jsonl",
        [
            {"id": "a", "problem": "p", "response": "one\ntwo\n\nthree"},
            {"id": "b", "problem": "p", "response": "one\ntwo\n\nthree", "segmentation": "paragraphs"},
        ],
    )
    run_import(path, "--format", "responses", "--create-dataset", "--segmentation", "lines", "--no-progress")
    assert {key: s.steps for key, s in _stored().items()} == {"a": ["one", "two", "three"], "b": ["one\ntwo", "three"]}


def test_a_responses_file_with_steps_or_without_a_response_is_rejected_by_line(tmp_path):
    path = _write_lines(
        tmp_path,
        "r.jsonl",
        [
            {"id": "ok", "problem": "p", "response": "a\n\nb"},
            {"id": "steps", "problem": "p", "steps": ["a"]},
            {"id": "none", "problem": "p"},
            {"id": "long", "problem": "p", "response": "\n\n".join(["x"] * 201)},
        ],
    )
    message, out, err = run_failing_import(path, "--format", "responses", "--create-dataset", "--no-progress")
    assert message == f"{path}: 3 invalid records; nothing was stored."
    assert err.splitlines() == [
        "rejected line 2 (id steps): steps: Not part of --format responses (send the response); "
        "use --format jsonl for step lists.",
        "rejected line 3 (id none): response: This field is required.",
        "rejected line 4 (id long): response: Segmentation 'paragraphs' split the response into 201 steps; "
        "a solution has at most 200.",
    ]
    assert out.splitlines()[-1] == "created 0, existing 0, rejected 3 (nothing was stored)"
    assert not Dataset.objects.exists() and not Solution.objects.exists()


def test_jsonl_records_may_hold_a_response_too(tmp_path):
    path = _write_lines(tmp_path, "s.jsonl", [{"id": "r", "problem": "p", "response": "a\n\nb"}])
    run_import(path, "--format", "jsonl", "--create-dataset", "--no-progress")
    assert Solution.objects.get().steps == ["a", "b"]


# --- openai-batch -----------------------------------------------------------------------------------------


def test_an_openai_chat_batch_imports_n_samples_per_request_and_rejects_failed_requests():
    path = BATCH / "openai_chat_output.jsonl"
    message, out, err = run_failing_import(
        path, "--format", "openai-batch", "--problems", PROBLEMS, "--create-dataset", "--no-progress"
    )
    assert message == f"{path}: 2 invalid records; nothing was stored."
    assert err.splitlines()[-2:] == [
        "rejected line 3 (custom_id request-3): response.status_code: The request failed: status code 400 "
        "(max_tokens is too large: 200000. This model supports at most 16384 completion tokens.). "
        "Pass --skip-failed to import the other lines.",
        "rejected line 4 (custom_id request-4): error: The request failed: batch_expired: This request could "
        "not be executed before the completion window expired. Pass --skip-failed to import the other lines.",
    ]
    assert not Solution.objects.exists()

    out, _ = run_import(
        path, "--format", "openai-batch", "--problems", PROBLEMS, "--skip-failed", "--create-dataset", "--no-progress"
    )

    assert out.splitlines() == [
        "Created dataset 'bench' (no members yet: add them with add_member).",
        "line 3 (custom_id request-3): skipped: the request failed: status code 400 (max_tokens is too large: "
        "200000. This model supports at most 16384 completion tokens.)",
        "line 4 (custom_id request-4): skipped: the request failed: batch_expired: This request could not be "
        "executed before the completion window expired.",
        "created 3, existing 0, rejected 0, skipped 2",
    ]
    stored = _stored()
    assert sorted(stored) == ["request-1#0", "request-1#1", "request-2#0"]
    assert stored["request-1#0"].steps == GSM8K["gsm8k-8"]["steps"]
    assert stored["request-1#1"].steps == GSM8K["gsm8k-203"]["steps"]
    assert stored["request-2#0"].steps == GSM8K["gsm8k-11"]["steps"]
    assert stored["request-1#0"].problem_id == stored["request-1#1"].problem_id
    first = stored["request-1#0"]
    assert (first.problem.text, first.problem.reference_answer) == (GSM8K["gsm8k-8"]["problem"], "73")
    assert (first.generator, first.subset, first.segmentation) == ("gpt-4o-mini-2024-07-18", "gsm8k", "paragraphs")
    assert first.metadata == {
        "source": "openai-batch",
        "custom_id": "request-1",
        "choice_index": 0,
        "finish_reason": "stop",
        "model": "gpt-4o-mini-2024-07-18",
    }

    out, _ = run_import(path, "--format", "openai-batch", "--problems", PROBLEMS, "--skip-failed", "--no-progress")
    assert out.splitlines()[-1] == "created 0, existing 3, rejected 0, skipped 2"
    assert Solution.objects.count() == 3


def test_an_openai_completions_batch_reads_the_text_of_each_choice(django_capture_on_commit_callbacks):
    path = BATCH / "openai_completions_output.jsonl"
    with django_capture_on_commit_callbacks(execute=True):
        out, _ = run_import(
            path, "--format", "openai-batch", "--problems", PROBLEMS, "--create-dataset", "--no-progress"
        )
    assert out.splitlines()[-1] == "created 2, existing 0, rejected 0"
    stored = _stored()
    assert stored["request-5#0"].steps == GSM8K["gsm8k-43"]["steps"]
    assert stored["request-5#1"].steps == GSM8K["gsm8k-240"]["steps"]
    assert stored["request-5#1"].metadata["finish_reason"] == "length"
    assert stored["request-5#0"].generator == "gpt-3.5-turbo-instruct"
    # The final-answer check ran on each response: it agrees with ProcessBench's verdict on both.
    assert [(stored[key].final_answer, stored[key].answer_check) for key in ("request-5#0", "request-5#1")] == [
        ("560", GSM8K["gsm8k-43"]["final_answer_correct"]),
        ("272", GSM8K["gsm8k-240"]["final_answer_correct"]),
    ]


def test_a_vllm_run_batch_output_imports_with_its_error_line_skipped():
    path = BATCH / "vllm_chat_output.jsonl"
    args = ("--format", "openai-batch", "--problems", PROBLEMS, "--create-dataset", "--no-progress")
    _, _, err = run_failing_import(path, *args)
    assert err.splitlines() == [
        "rejected line 2 (custom_id request-7): error: The request failed: This model's maximum context length "
        "is 4096 tokens. However, you requested 9000 tokens (1000 in the messages, 8000 in the completion). "
        "Please reduce the length of the messages or completion. Pass --skip-failed to import the other lines."
    ]
    out, _ = run_import(path, *args, "--skip-failed")
    assert out.splitlines()[-1] == "created 2, existing 0, rejected 0, skipped 1"
    stored = _stored()
    assert stored["request-6#0"].steps == GSM8K["gsm8k-49"]["steps"]
    assert stored["request-6#1"].steps == GSM8K["gsm8k-243"]["steps"]
    assert stored["request-6#0"].generator == "Qwen2.5-Math-7B-Instruct"  # the problems file's, not the model's
    assert stored["request-6#0"].metadata["model"] == "Qwen/Qwen2.5-Math-7B-Instruct"


def test_the_batch_input_file_can_stand_in_for_the_problems_file():
    path = BATCH / "openai_chat_output.jsonl"
    requests = str(BATCH / "openai_chat_input.jsonl")
    args = ("--format", "openai-batch", "--problems", requests, "--skip-failed", "--create-dataset", "--no-progress")
    out, _ = run_import(path, *args)
    assert out.splitlines()[-1] == "created 3, existing 0, rejected 0, skipped 2"
    stored = _stored()
    assert stored["request-2#0"].problem.text == GSM8K["gsm8k-11"]["problem"]
    assert stored["request-2#0"].problem.reference_answer == ""


def test_a_custom_id_missing_from_the_problems_file_rejects_the_file(tmp_path):
    problems = _write_lines(tmp_path, "p.jsonl", [{"custom_id": "request-1", "problem": "p"}])
    path = BATCH / "openai_chat_output.jsonl"
    message, _, err = run_failing_import(
        path, "--format", "openai-batch", "--problems", problems, "--skip-failed", "--create-dataset", "--no-progress"
    )
    assert message == f"{path}: 1 invalid records; nothing was stored."
    assert err.splitlines() == [
        "rejected line 2 (custom_id request-2): custom_id: No problem for this custom id in --problems."
    ]


def test_malformed_batch_lines_are_rejected_naming_the_field(tmp_path):
    body = {"object": "chat.completion", "model": "m", "choices": [{"index": 0, "message": {"content": None}}]}
    lines = [
        {"custom_id": "request-1", "response": {"status_code": 200, "body": body}, "error": None},
        {"custom_id": "request-2", "response": {"status_code": 200, "body": {"choices": []}}, "error": None},
        {"response": None, "error": None},
        {"custom_id": "request-5", "response": {"status_code": 200, "body": {"choices": [{"index": 0}]}}},
    ]
    path = _write_lines(tmp_path, "out.jsonl", lines)
    with path.open("a", encoding="utf-8") as stream:
        stream.write("{not json\n")
    _, _, err = run_failing_import(
        path, "--format", "openai-batch", "--problems", PROBLEMS, "--create-dataset", "--no-progress"
    )
    assert err.splitlines() == [
        "rejected line 1 (custom_id request-1, choice 0): response.body.choices[0].message.content: "
        "Must be a string: the generated text.",
        "rejected line 2 (custom_id request-2): response.body.choices: Must be a non-empty list of choices "
        "(a chat or text completion).",
        "rejected line 3: custom_id: This field is required and must be a non-empty string.",
        "rejected line 4 (custom_id request-5, choice 0): response.body.choices[0]: Has neither "
        "message.content (chat) nor text (completions).",
        "rejected line 5: line: Not valid JSON: Expecting property name enclosed in double quotes (column 2).",
    ]


@pytest.mark.parametrize(
    "lines, message",
    [
        (["{x"], "line 1: line: Not valid JSON: Expecting property name enclosed in double quotes (column 2)."),
        ([{"problem": "p"}], "line 1: custom_id: This field is required and must be a non-empty string."),
        (
            [{"custom_id": "a", "problem": "p"}, {"custom_id": "a", "problem": "q"}],
            "line 2: custom_id: Duplicate custom id 'a'.",
        ),
        (
            [{"custom_id": "a", "problem": "p", "answer": "3"}],
            "line 1: answer: Unknown field. Allowed fields: custom_id, problem, reference_answer, "
            "reference_solution, generator, subset, metadata.",
        ),
        (
            [{"custom_id": "a", "body": {"messages": [{"role": "system", "content": "x"}]}}],
            "line 1: body: Has no user message with text (body.messages) and no prompt (body.prompt).",
        ),
    ],
)
def test_a_bad_problems_file_is_refused_naming_the_line(tmp_path, lines, message):
    problems = tmp_path / "p.jsonl"
    problems.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    failure, _, _ = run_failing_import(
        BATCH / "openai_chat_output.jsonl", "--format", "openai-batch", "--problems", problems, "--create-dataset"
    )
    assert failure == f"--problems {problems}: {message}"


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ("--format", "openai-batch"),
            "--format openai-batch needs --problems FILE (custom_id -> problem; see docs/api.md).",
        ),
        (("--format", "responses", "--problems", PROBLEMS), "--problems applies to --format openai-batch only."),
        (("--format", "responses", "--skip-failed"), "--skip-failed applies to --format openai-batch only."),
        (
            ("--format", "processbench", "--segmentation", "lines"),
            "--segmentation applies to --format jsonl, responses, openai-batch only.",
        ),
    ],
)
def test_options_that_do_not_fit_the_format_are_refused(args, message):
    failure, _, _ = run_failing_import(BATCH / "responses.jsonl", *args, "--create-dataset")
    assert failure == message
