"""One subset rule for every way in: the subset given, else the one the id names (REST, files, the admin)."""

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from annotations.models import Solution
from annotations.services.exports import export_create, export_run
from annotations.services.ingestion import SolutionInput, solution_subset, solutions_ingest
from annotations.solution_input import subset_from_id
from tests.annotations.api_support import post_json, processbench_records, solutions_url, token_client
from tests.factories import DatasetFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "processbench"


@pytest.mark.parametrize(
    "external_id, subset",
    [
        ("gsm8k-12", "gsm8k"),
        ("olympiadbench-0", "olympiadbench"),
        ("omnimath-1033", "omnimath"),
        ("my-run-2024-7", "my-run-2024"),
        ("custom", ""),
        ("gsm8k-", ""),
        ("-12", ""),
        ("", ""),
        ("s" * 101 + "-1", ""),  # longer than the subset field: not a subset
        ("s" * 100 + "-1", "s" * 100),
    ],
)
def test_subset_from_id(external_id, subset):
    assert subset_from_id(external_id) == subset


def test_a_given_subset_wins_over_the_id():
    assert solution_subset(SolutionInput(problem="p", steps=["s"], external_id="gsm8k-1", subset="mine")) == "mine"
    assert solution_subset(SolutionInput(problem="p", steps=["s"], external_id="gsm8k-1")) == "gsm8k"


def test_rest_ingestion_derives_the_subset_from_the_id_unless_one_is_sent(manager, dataset):
    client = token_client(manager)
    first, second, third = processbench_records()
    response = post_json(client, solutions_url(), [first, {**second, "subset": "math-hard"}, third])
    assert response.status_code == 201, response.json()
    stored = dict(Solution.objects.values_list("external_id", "subset"))
    assert stored == {"gsm8k-0": "gsm8k", "math-2": "math-hard", "math-500": "math"}


def test_the_service_and_the_admin_path_store_the_same_subset(dataset):
    solutions_ingest(dataset=dataset, items=[SolutionInput(problem="p", steps=["s"], external_id="omnimath-3")])
    assert Solution.objects.get().subset == "omnimath"


def _export_rows(dataset, export_format: str, folder: Path) -> dict[str, list[dict]]:
    export = export_create(
        dataset=dataset, created_by=None, export_format=export_format, output_dir=folder, enqueue=False
    )
    assert export_run(export_id=export.pk).status == "succeeded"
    return {
        path.name: [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        for path in sorted((folder / "data").iterdir())
    }


def test_the_same_records_by_rest_and_by_file_export_identically(tmp_path):
    records = processbench_records()
    by_rest, by_file = DatasetFactory(slug="by-rest"), DatasetFactory(slug="by-file")
    manager = UserFactory(username="mona")
    MembershipFactory(dataset=by_rest, user=manager, role="manager")
    response = post_json(token_client(manager), solutions_url("by-rest"), records)
    assert response.status_code == 201, response.json()
    path = tmp_path / "records.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    out = io.StringIO()
    call_command(
        "import_solutions", str(path), "--dataset", "by-file", "--format", "processbench", "--no-progress", stdout=out
    )
    assert out.getvalue().splitlines()[-1] == "created 3, existing 0, rejected 0"

    for export_format in ("math_shepherd", "processbench", "trl", "qwen_prm"):
        rest_rows = _export_rows(by_rest, export_format, tmp_path / f"rest-{export_format}")
        file_rows = _export_rows(by_file, export_format, tmp_path / f"file-{export_format}")
        assert rest_rows == file_rows, export_format
    shepherd = _export_rows(by_file, "math_shepherd", tmp_path / "file-again")
    assert sorted(row["task"] for rows in shepherd.values() for row in rows) == ["gsm8k", "math", "math"]
