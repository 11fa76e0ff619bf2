"""Exports page through solutions in chunks of ids: chunk boundaries change no byte of any file."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotations.exporters import FORMATTERS
from annotations.exporters.filters import ExportFilters
from annotations.models import Solution
from annotations.selectors.export_records import solution_records
from annotations.selectors.exports import export_selection
from annotations.services import exports as export_services
from tests.annotations.exports.critic_support import run
from tests.factories import AnnotationFactory, ProblemFactory, SolutionFactory, SuggestionFactory, UserFactory

pytestmark = pytest.mark.django_db

EXPORTS = [(name, None) for name, formatter in FORMATTERS.items() if not formatter.critique_sources] + [
    (name, source) for name, formatter in FORMATTERS.items() for source in formatter.critique_sources
]


@pytest.fixture
def mixed_dataset(critic_dataset):
    """The critic scenario plus unlabelled solutions: annotated only, suggested only, flagged, untouched."""
    dataset, _ = critic_dataset
    problem = ProblemFactory(dataset=dataset, text="A problem whose solutions have no final label.")
    zoe = UserFactory(username="zoe")
    annotated = SolutionFactory(dataset=dataset, problem=problem, external_id="annotated-only")
    AnnotationFactory(solution=annotated, annotator=zoe, earliest_error_step=1, rationale="Step 2 slips.")
    flagged = SolutionFactory(dataset=dataset, problem=problem, external_id="flagged")
    AnnotationFactory(solution=flagged, annotator=zoe, earliest_error_step=0, flag_ambiguous=True)
    suggested = SolutionFactory(dataset=dataset, problem=problem, external_id="suggested-only")
    SuggestionFactory(solution=suggested, method="mc", label=2, step_scores=[1.0, 0.5, 0.0])
    SolutionFactory(dataset=dataset, problem=problem, external_id="untouched")
    # The first record's problem gets a late solution, so one problem's ids are not contiguous.
    first = Solution.objects.filter(dataset=dataset).order_by("pk").first()
    late = SolutionFactory(dataset=dataset, problem=first.problem, external_id="late")
    SuggestionFactory(solution=late, method="judge", label=0, rationale="\\boxed{0}")
    return dataset


def _split_files(export) -> list[tuple[str, str]]:
    return [(entry["path"], entry["sha256"]) for entry in export.files if entry["split"]]


@pytest.mark.parametrize("export_format, critique_source", EXPORTS)
@pytest.mark.parametrize("filters", [{}, {"exclude_flagged": True}])
def test_chunk_size_changes_no_byte(mixed_dataset, export_root, monkeypatch, export_format, critique_source, filters):
    files = []
    for chunk_size in (1, 3, 1000):
        monkeypatch.setattr(export_services, "EXPORT_CHUNK_SIZE", chunk_size)
        export = run(mixed_dataset, export_format, critique_source=critique_source, seed=7, filters=filters)
        files.append(_split_files(export))
    assert files[0] == files[1] == files[2]
    assert files[0]


@pytest.mark.parametrize("labelled_only", [True, False])
@pytest.mark.parametrize("exclude_flagged", [True, False])
def test_chunks_take_exactly_the_solutions_of_the_single_query(mixed_dataset, labelled_only, exclude_flagged):
    filters = ExportFilters(exclude_flagged=exclude_flagged)
    options = {"dataset": mixed_dataset, "filters": filters, "labelled_only": labelled_only}
    expected = list(export_selection(**options).matching().values_list("pk", flat=True))
    for chunk_size in (1, 4, 2000):
        records = solution_records(export_selection(**options), provenance=True, chunk_size=chunk_size)
        assert [record.solution_id for record in records] == expected
    ids = {solution.external_id: solution.pk for solution in Solution.objects.filter(dataset=mixed_dataset)}
    assert ids["untouched"] not in expected
    assert (ids["annotated-only"] in expected, ids["suggested-only"] in expected) == (not labelled_only,) * 2
    assert (ids["flagged"] in expected) == (not labelled_only and not exclude_flagged)


def test_records_are_read_one_chunk_at_a_time(mixed_dataset):
    selection = export_selection(
        dataset=mixed_dataset, filters=ExportFilters(), labelled_only=False, judge_critiques=True
    )
    records = solution_records(selection, provenance=True, chunk_size=3)
    with CaptureQueriesContext(connection) as first_chunk:
        next(records)
    # the keys (one ordered query, streamed), final labels of the chunk, its rows, annotations, suggestions,
    # judge critiques
    assert len(first_chunk) == 6
    keys = first_chunk[0]["sql"]
    assert keys.endswith("ORDER BY 1 ASC, 2 ASC") and "LIMIT" not in keys, keys
    with CaptureQueriesContext(connection) as rest_of_chunk:
        next(records), next(records)
    assert len(rest_of_chunk) == 0
    with CaptureQueriesContext(connection) as second_chunk:
        next(records)
    assert len(second_chunk) == 5  # the keys go on streaming: no new query for them
