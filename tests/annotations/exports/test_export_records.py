"""Judge critiques of a chunk: only succeeded critiques of a critique method with a label, newest first."""

import datetime

import pytest

from annotations.exporters.filters import ExportFilters
from annotations.models import Suggestion, SuggestionStatus
from annotations.selectors.export_records import solution_records
from annotations.selectors.exports import export_selection
from tests.factories import FinalLabelFactory, SolutionFactory, SuggestionFactory

pytestmark = pytest.mark.django_db


def test_judge_critiques_are_the_succeeded_critiques_with_a_label_newest_first():
    solution = SolutionFactory()
    FinalLabelFactory(solution=solution, label=0)
    kept = {
        "older": SuggestionFactory(solution=solution, config_key="older", label=0, rationale="Older. \\boxed{0}"),
        "newer": SuggestionFactory(solution=solution, config_key="newer", label=1, rationale="Newer. \\boxed{1}"),
    }
    SuggestionFactory(solution=solution, config_key="failed", status=SuggestionStatus.FAILED, label=None, rationale="x")
    SuggestionFactory(solution=solution, config_key="queued", status=SuggestionStatus.QUEUED, label=None, rationale="y")
    SuggestionFactory(solution=solution, config_key="silent", label=0, rationale="")
    SuggestionFactory(solution=solution, method="mc", label=0, rationale="Not a critique. \\boxed{0}")
    moment = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
    Suggestion.objects.filter(pk=kept["older"].pk).update(updated_at=moment)
    Suggestion.objects.filter(pk=kept["newer"].pk).update(updated_at=moment + datetime.timedelta(days=1))
    other = SolutionFactory(dataset=solution.dataset, problem=solution.problem)
    FinalLabelFactory(solution=other, label=-1)
    selection = export_selection(
        dataset=solution.dataset,
        filters=ExportFilters(),
        labelled_only=True,
        judge_critiques=True,
    )
    records = {
        record.solution_id: record
        for record in solution_records(selection, provenance=False, chunk_size=5, critique=True)
    }
    assert [(item.label, item.critique) for item in records[solution.pk].judge_critiques] == [
        (1, "Newer. \\boxed{1}"),
        (0, "Older. \\boxed{0}"),
    ]
    assert records[other.pk].judge_critiques == ()
