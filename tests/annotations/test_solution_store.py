"""The store paths of ingestion: COPY + INSERT ... SELECT (PostgreSQL), executemany (SQLite), bulk_create."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotations.models import FinalLabel, Problem, Solution
from annotations.services import ingestion, solution_store
from annotations.services.ingestion import SolutionInput, solutions_ingest
from tests.factories import DatasetFactory, UserFactory

pytestmark = pytest.mark.django_db
sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="the executemany path is SQLite's")

SOLUTION_FIELDS = [
    field.attname
    for field in Solution._meta.concrete_fields
    if field.attname not in {"id", "dataset_id", "problem_id", "created_at", "reformat_queued_at"}
]


def _items() -> list[SolutionInput]:
    """Return a batch with every kind of value: unicode, tabs and backslashes, JSON, nulls, responses."""
    return [
        SolutionInput(
            problem="Solve \\(x^2 = 4\\)\tfor x. Ünïcode: 中文, and a backslash \\ at the end\\",
            steps=["Take roots:\n\\(x = \\pm 2\\).", "So x = 2 or x = -2 — done."],
            external_id="ext-1",
            generator="Qwen2-7B-Instruct",
            reference_answer="\\pm 2",
            final_answer="\\pm 2",
            final_answer_correct=True,
            label=-1,
            metadata={"nested": {"list": [1, 2.5, None, "é"]}, "flag": True},
        ),
        SolutionInput(
            problem="Solve \\(x^2 = 4\\)\tfor x. Ünïcode: 中文, and a backslash \\ at the end\\",
            steps=["x = 2.", "Check: 2^2 = 4."],
            external_id="gsm8k-7",
            label=1,
            final_answer_correct=False,
        ),
        SolutionInput(problem="A problem without ids.", steps=["One step."], reference_solution="By hand."),
        SolutionInput(problem="A problem without ids.", response="First paragraph.\n\nSecond paragraph."),
    ]


def _rows(dataset) -> tuple[list, list, list]:
    solutions = sorted(
        (*(values[name] for name in SOLUTION_FIELDS), values["problem__content_hash"])
        for values in Solution.objects.filter(dataset=dataset).values(*SOLUTION_FIELDS, "problem__content_hash")
    )
    problems = sorted(
        Problem.objects.filter(dataset=dataset).values_list(
            "content_hash", "text", "reference_answer", "reference_solution"
        )
    )
    labels = sorted(
        FinalLabel.objects.filter(solution__dataset=dataset).values_list(
            "solution__content_hash", "label", "step_count", "source", "agreement", "explanation", "decided_by"
        )
    )
    return solutions, problems, labels


@pytest.mark.postgres
def test_copy_stores_exactly_what_bulk_create_stores(monkeypatch):
    user = UserFactory(username="mona")
    copied, staged, created = (
        DatasetFactory(slug="copied"),
        DatasetFactory(slug="staged"),
        DatasetFactory(slug="created"),
    )
    with CaptureQueriesContext(connection) as captured:
        solutions_ingest(dataset=copied, items=_items(), user=user)
    assert any("nextval" in query["sql"] for query in captured)  # ids drawn for the straight COPY
    assert not any("prmweb_ingest_solution" in query["sql"] for query in captured)
    monkeypatch.setattr(solution_store, "_copy_straight", solution_store._copy_in)  # as the retry stores
    with CaptureQueriesContext(connection) as captured:
        solutions_ingest(dataset=staged, items=_items(), user=user)
    assert any("TABLE IF NOT EXISTS prmweb_ingest_solution" in query["sql"] for query in captured)
    monkeypatch.setattr(solution_store, "_uses_copy", lambda: False)
    monkeypatch.setattr(solution_store, "_uses_executemany", lambda: False)
    solutions_ingest(dataset=created, items=_items(), user=user)
    assert _rows(copied) == _rows(created)
    assert _rows(staged) == _rows(created)
    solutions, problems, labels = _rows(copied)
    assert len(solutions) == 4 and len(problems) == 2 and len(labels) == 2
    assert Solution.objects.filter(dataset=copied, ingested_by=user).count() == 4


@pytest.mark.postgres
def test_the_straight_copy_reports_the_ids_it_stored_in_key_order():
    dataset = DatasetFactory(slug="copied")
    result = solutions_ingest(dataset=dataset, items=_items())
    stored = {
        row[0]: row for row in Solution.objects.filter(dataset=dataset).values_list("id", "external_id", "content_hash")
    }
    assert [stored[item.solution_id][1] for item in result.items] == [item.external_id for item in _items()]
    assert len({stored[item.solution_id][2] for item in result.items}) == 4
    by_key = sorted(stored.values(), key=lambda row: (row[1], row[2]))  # ids grow in the order rows are written
    assert [row[0] for row in by_key] == sorted(stored)


@pytest.mark.postgres
def test_copy_path_writes_a_constant_number_of_statements():
    dataset = DatasetFactory(slug="copied")

    def statements(count: int) -> list[str]:
        items = [
            SolutionInput(problem=f"P{i % 3}-{count}", steps=[f"s{i}"], external_id=f"{count}-{i}")
            for i in range(count)
        ]
        with CaptureQueriesContext(connection) as captured:
            assert solutions_ingest(dataset=dataset, items=items).created == count
        return [query["sql"].split()[0] for query in captured]

    assert statements(5) == statements(50)


def test_an_item_stored_by_a_concurrent_batch_after_the_check_is_reported_existing(monkeypatch, caplog):
    dataset = DatasetFactory(slug="copied")
    first = solutions_ingest(dataset=dataset, items=_items())
    caplog.set_level("INFO", logger=ingestion.__name__)
    # As if a concurrent batch committed the same items between our existence check and our insert.
    monkeypatch.setattr(ingestion, "_existing_solution_ids", _unseen_once(ingestion._existing_solution_ids))
    again = solutions_ingest(dataset=dataset, items=[*_items(), SolutionInput(problem="New.", steps=["a"])])
    assert [item.status for item in again.items] == ["existing"] * 4 + ["created"]
    assert [item.solution_id for item in again.items[:4]] == [item.solution_id for item in first.items]
    assert Solution.objects.filter(dataset=dataset).count() == 5
    assert FinalLabel.objects.filter(solution__dataset=dataset).count() == 2
    # the first attempt collided (IntegrityError), the retry found them stored
    assert [record.getMessage() for record in caplog.records] == [
        f"ingestion collided with a concurrent batch for dataset {dataset.pk}; retrying"
    ]


def _unseen_once(lookup):
    calls = []

    def first_call_sees_nothing(dataset, items, hashes):
        calls.append(1)
        return {} if len(calls) == 1 else lookup(dataset, items, hashes)

    return first_call_sees_nothing


@sqlite_only
def test_executemany_stores_exactly_what_bulk_create_stores(monkeypatch):
    user = UserFactory(username="mona")
    prepared, created = DatasetFactory(slug="prepared"), DatasetFactory(slug="created")
    with CaptureQueriesContext(connection) as captured:
        solutions_ingest(dataset=prepared, items=_items(), user=user)
    assert not any("RETURNING" in query["sql"] for query in captured)  # bulk_create's statements return ids
    monkeypatch.setattr(solution_store, "_uses_executemany", lambda: False)
    with CaptureQueriesContext(connection) as captured:
        solutions_ingest(dataset=created, items=_items(), user=user)
    assert any("RETURNING" in query["sql"] for query in captured)
    assert _rows(prepared) == _rows(created)
    assert _raw_rows(prepared) == _raw_rows(created)  # the same text in the JSON columns, byte for byte
    solutions, problems, labels = _rows(prepared)
    assert len(solutions) == 4 and len(problems) == 2 and len(labels) == 2
    assert Solution.objects.filter(dataset=prepared, ingested_by=user).count() == 4


def _raw_rows(dataset) -> list[list]:
    """Return every column of the dataset's solutions, problems and final labels as stored, but ids and times."""
    skipped = {"id", "dataset_id", "problem_id", "solution_id", "created_at", "decided_at", "reformat_queued_at"}
    tables = []
    for model, where in (
        (Solution, "dataset_id = %s"),
        (Problem, "dataset_id = %s"),
        (FinalLabel, f"solution_id IN (SELECT id FROM {Solution._meta.db_table} WHERE dataset_id = %s)"),
    ):
        columns = [str(field.column) for field in model._meta.concrete_fields if field.column not in skipped]
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(columns)} FROM {model._meta.db_table} WHERE {where}", [dataset.pk])
            tables.append(sorted(cursor.fetchall(), key=repr))
        with connection.cursor() as cursor:  # times as the model writes them: text of one format
            times = [str(field.column) for field in model._meta.concrete_fields if field.column in skipped - {"id"}]
            times = [column for column in times if not column.endswith("_id")]
            cursor.execute(f"SELECT {', '.join(times)} FROM {model._meta.db_table} WHERE {where}", [dataset.pk])
            tables.append(sorted({tuple(_time_shape(value) for value in row) for row in cursor.fetchall()}))
    return tables


def _time_shape(value) -> str:
    return "null" if value is None else "".join("9" if char.isdigit() else char for char in str(value))


def test_an_existing_problems_blank_references_are_filled_and_its_text_kept():
    dataset = DatasetFactory(slug="prepared")
    solutions_ingest(dataset=dataset, items=[SolutionInput(problem="Same problem.", steps=["a"])])
    later = [
        SolutionInput(problem="Same problem.", steps=["b"], reference_answer="4"),
        SolutionInput(problem="Same problem.", steps=["c"], reference_answer="5", reference_solution="Count."),
    ]
    result = solutions_ingest(dataset=dataset, items=later)
    assert result.created == 2
    problem = Problem.objects.get(dataset=dataset)
    assert (problem.text, problem.reference_answer, problem.reference_solution) == ("Same problem.", "4", "")
    assert sorted(Solution.objects.filter(dataset=dataset).values_list("problem_id", flat=True)) == [problem.pk] * 3


@sqlite_only
def test_executemany_path_writes_a_constant_number_of_statements():
    dataset = DatasetFactory(slug="prepared")

    def statements(count: int) -> list[str]:
        items = [
            SolutionInput(problem=f"P{i % 3}-{count}", steps=[f"s{i}"], external_id=f"{count}-{i}", label=-1)
            for i in range(count)
        ]
        with CaptureQueriesContext(connection) as captured:
            assert solutions_ingest(dataset=dataset, items=items).created == count
        return [query["sql"].split(" times: ")[-1].split()[0] for query in captured]  # executemany: "N times: ..."

    assert statements(5) == statements(50)


def test_bulk_create_path_writes_no_statement_per_row(monkeypatch):
    monkeypatch.setattr(solution_store, "_uses_copy", lambda: False)
    monkeypatch.setattr(solution_store, "_uses_executemany", lambda: False)
    dataset = DatasetFactory(slug="created")

    def statements(count: int) -> int:
        items = [
            SolutionInput(problem=f"P{i % 3}-{count}", steps=[f"s{i}"], external_id=f"{count}-{i}", label=-1)
            for i in range(count)
        ]
        with CaptureQueriesContext(connection) as captured:
            assert solutions_ingest(dataset=dataset, items=items).created == count
        return len(captured)

    # bulk_create splits rows into batches within SQLite's parameter limit: a few statements, none per row
    small, large = statements(5), statements(60)
    assert large <= small + 4


@sqlite_only
def test_executemany_holds_the_batch_in_a_larger_page_cache_and_sets_it_back():
    dataset = DatasetFactory(slug="prepared")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size = -3000")
    with CaptureQueriesContext(connection) as captured:
        solutions_ingest(dataset=dataset, items=_items())
    pragmas = [query["sql"] for query in captured if query["sql"].startswith("PRAGMA")]
    assert pragmas == ["PRAGMA cache_size", f"PRAGMA cache_size = -{64 * 1024}", "PRAGMA cache_size = -3000"]
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        assert cursor.fetchone() == (-3000,)
        cursor.execute("PRAGMA synchronous")
        assert cursor.fetchone() == (2,)  # FULL, SQLite's default: durability as before
