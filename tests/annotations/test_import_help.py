"""`import_solutions` that helps: the right --format named, a bounded error list, a progress total, a usable dataset."""

import io
import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from annotations.importers.sniff import sniff_format
from annotations.models import Dataset, DatasetMembership, Solution
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
GSM8K = FIXTURES / "processbench" / "gsm8k.json"
PRM800K_PHASE2 = FIXTURES / "prm800k" / "prm800k-phase2-train-example.jsonl"
PRM800K_PHASE1 = FIXTURES / "prm800k" / "prm800k-phase1-train-example.json"


def _import(path, *args, stderr=None):
    out, err = io.StringIO(), stderr if stderr is not None else io.StringIO()
    call_command("import_solutions", str(path), "--dataset", "bench", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _failing_import(path, *args):
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("import_solutions", str(path), "--dataset", "bench", *args, stdout=out, stderr=err)
    return str(failure.value), out.getvalue(), err.getvalue()


@pytest.fixture
def pretty_processbench(tmp_path) -> Path:
    """The first 40 gsm8k records, pretty-printed as people save JSON (one key per line)."""
    path = tmp_path / "gsm8k-pretty.json"
    path.write_text(json.dumps(json.loads(GSM8K.read_text(encoding="utf-8"))[:40], indent=2), encoding="utf-8")
    return path


def test_a_processbench_file_imported_as_jsonl_names_the_right_format_and_bounds_the_errors(pretty_processbench):
    lines = [line for line in pretty_processbench.read_text(encoding="utf-8").splitlines() if line.strip()]

    message, out, err = _failing_import(pretty_processbench, "--format", "jsonl", "--create-dataset", "--no-progress")

    assert message == (
        f"{pretty_processbench}: {len(lines)} invalid records; nothing was stored. "
        "Hint: this file is a JSON array of ProcessBench records: try --format processbench."
    )
    printed = err.splitlines()
    assert len(printed) == 21
    assert printed[0] == "rejected line 1: line: Not valid JSON: Expecting value (column 1)."
    assert all(line.startswith("rejected line ") for line in printed[:20])
    assert printed[20] == (f"... and {len(lines) - 20} more reasons not shown ({len(lines)} invalid records in all).")
    assert out.splitlines()[-1] == f"created 0, existing 0, rejected {len(lines)} (nothing was stored)"
    assert not Dataset.objects.exists()

    out, _ = _import(pretty_processbench, "--format", "processbench", "--create-dataset", "--no-progress")
    assert out.splitlines()[-1] == "created 40, existing 0, rejected 0"


@pytest.mark.parametrize(
    "content, used, hint",
    [
        (
            PRM800K_PHASE2,
            "processbench",
            "Hint: this file holds PRM800K records: try --format prm800k.",
        ),
        (
            PRM800K_PHASE1,
            "jsonl",
            "Hint: this file holds PRM800K records: try --format prm800k.",
        ),
        (
            '{"problem": "What is 2 + 2?", "steps": ["2 + 2 = 4."], "id": "s-1"}\n',
            "processbench",
            "Hint: this file holds one solution object per line: try --format jsonl.",
        ),
        (
            '[{"problem": "What is 2 + 2?", "steps": ["2 + 2 = 4."]}]',
            "jsonl",
            "Hint: this file is a JSON array of solution objects: --format jsonl reads one per line "
            "(jq -c '.[]' FILE > FILE.jsonl).",
        ),
        (
            GSM8K,
            "prm800k",
            "Hint: this file is a JSON array of ProcessBench records: try --format processbench.",
        ),
    ],
)
def test_a_file_in_another_format_gets_a_hint(tmp_path, content, used, hint):
    if isinstance(content, Path):
        path = content
    else:
        path = tmp_path / "input.json"
        path.write_text(content, encoding="utf-8")
    message, _, _ = _failing_import(path, "--format", used, "--create-dataset", "--no-progress")
    assert message.endswith(f"nothing was stored. {hint}")
    assert Solution.objects.count() == 0


def test_no_hint_when_the_format_is_right_and_records_are_bad(tmp_path):
    records = json.loads(GSM8K.read_text(encoding="utf-8"))[:3]
    records[1]["label"] = 99
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    message, _, _ = _failing_import(path, "--format", "processbench", "--create-dataset", "--no-progress")
    assert message == f"{path}: 1 invalid records; nothing was stored."


@pytest.mark.parametrize(
    "text, expected",
    [
        ('   \n[\n  {"id": "x-1", "problem": "p", "steps": ["s"], "label": -1}', "processbench"),
        ('{"question": {"problem": "p"}, "label": {"steps": []}}', "prm800k"),
        ('{"problem": "p", "steps": ["s"], "subset": "x"}\n{"problem": "q"', "jsonl"),
        ('{"problem": "p", "steps": ["s"], "surprise": 1}', None),
        ("problem,steps\n", None),
        ("", None),
    ],
)
def test_sniffing_looks_at_the_first_record_only(text, expected):
    found = sniff_format(io.StringIO(text))
    assert (found[0] if found else None) == expected


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_shows_a_total_a_percentage_and_an_eta():
    _, err = _import(GSM8K, "--format", "processbench", "--create-dataset", stderr=_Terminal())
    assert re.search(r"importing: +0%\| +\| 0/400 \[00:00<\?", err), err
    assert re.search(r"importing: 100%\|[█#]+\| 400/400 \[\d\d:\d\d<00:00, +[\d.]+ records/s\]", err), err


def test_progress_in_a_log_is_one_last_line():
    _, err = _import(GSM8K, "--format", "processbench", "--create-dataset")
    assert "\r" not in err
    (line,) = err.splitlines()
    assert re.fullmatch(r"importing: 100%\|█+\| 400/400 \[\d\d:\d\d<00:00, +[\d.]+ records/s\]", line), line


def test_create_dataset_with_a_name_and_a_manager_is_usable_at_once():
    nina = UserFactory(username="nina")
    out, _ = _import(
        GSM8K, "--format", "processbench", "--create-dataset", "--name", "ProcessBench gsm8k", "--manager", "nina",
        "--no-progress",
    )  # fmt: skip
    assert out.splitlines()[0] == "Created dataset 'bench' (manager 'nina')."
    dataset = Dataset.objects.get(slug="bench")
    assert (dataset.name, dataset.created_by) == ("ProcessBench gsm8k", nina)
    assert list(DatasetMembership.objects.values_list("user__username", "role")) == [("nina", "manager")]
    client = Client()
    client.force_login(nina)
    response = client.get("/datasets/bench/next/")
    assert response.status_code == 302 and response["Location"].startswith("/annotate/")


def test_an_unknown_manager_stores_nothing():
    message, _, _ = _failing_import(
        GSM8K, "--format", "processbench", "--create-dataset", "--manager", "ghost", "--no-progress"
    )
    assert message == "--manager 'ghost': no such user; create the account first."
    assert not Dataset.objects.exists()
    assert not Solution.objects.exists()


def test_name_and_manager_need_create_dataset():
    message, _, _ = _failing_import(GSM8K, "--format", "processbench", "--name", "X", "--no-progress")
    assert message == "--name and --manager describe a new dataset: pass them with --create-dataset."
