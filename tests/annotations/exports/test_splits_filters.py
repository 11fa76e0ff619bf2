"""Split assignment by problem and filter parsing: pure logic, exact messages."""

from collections import Counter
from datetime import UTC, datetime

import pytest

from annotations.exporters import SplitRatios, assign_split, parse_split_ratios
from annotations.exporters.filters import ExportFilters, InvalidFilters, parse_export_filters

SOURCES = ["unanimous", "majority", "review", "consensus_auto", "imported"]


def test_assignment_is_stable_and_depends_on_the_seed():
    keys = [f"problem {n}" for n in range(2000)]
    first = [assign_split(key, seed=7, ratios=SplitRatios()) for key in keys]
    assert first == [assign_split(key, seed=7, ratios=SplitRatios()) for key in keys]
    assert first != [assign_split(key, seed=8, ratios=SplitRatios()) for key in keys]


def test_assignment_follows_the_ratios():
    counts = Counter(assign_split(f"p{n}", seed=0, ratios=SplitRatios(0.6, 0.3, 0.1)) for n in range(20000))
    assert abs(counts["train"] / 20000 - 0.6) < 0.02
    assert abs(counts["validation"] / 20000 - 0.3) < 0.02
    assert abs(counts["test"] / 20000 - 0.1) < 0.02


@pytest.mark.parametrize("ratios", [SplitRatios(1, 0, 0), SplitRatios(0.7, 0.3, 0), SplitRatios(0, 0, 1)])
def test_a_zero_ratio_split_never_gets_a_problem(ratios):
    splits = {assign_split(f"p{n}", seed=3, ratios=ratios) for n in range(5000)}
    assert splits == {name for name, share in ratios.as_dict().items() if share > 0}


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, SplitRatios(0.8, 0.1, 0.1)),
        ("0.7,0.2,0.1", SplitRatios(0.7, 0.2, 0.1)),
        ([1, 0, 0], SplitRatios(1, 0, 0)),
        ({"train": 0.5, "test": 0.5}, SplitRatios(0.5, 0, 0.5)),
    ],
)
def test_parse_split_ratios(value, expected):
    assert parse_split_ratios(value) == expected


@pytest.mark.parametrize(
    "value, message",
    [
        ("0.8,0.2", "Give three ratios for train, validation and test (got 2)."),
        ("0.8,0.1,x", "Each ratio must be a number, e.g. 0.8,0.1,0.1."),
        ([0.9, 0.2, -0.1], "Ratios must be finite and not negative."),
        ([0.5, 0.2, 0.1], "Ratios must sum to 1 (they sum to 0.8)."),
        ({"train": 1, "dev": 0}, "Unknown split(s) dev; use train, validation and test."),
        ([True, 0, 0], "Each ratio must be a number, e.g. 0.8,0.1,0.1."),
    ],
)
def test_parse_split_ratios_errors(value, message):
    with pytest.raises(ValueError) as caught:
        parse_split_ratios(value)
    assert str(caught.value) == message


def test_parse_filters_normalizes():
    filters = parse_export_filters(
        {
            "label_sources": ["unanimous", "review"],
            "min_agreement": "0.75",
            "exclude_flagged": True,
            "subsets": "gsm8k, math",
            "generators": ["Qwen2-7B-Instruct"],
            "decided_after": "2025-01-01",
            "decided_before": "2025-02-01T12:00:00+02:00",
        },
        label_sources=SOURCES,
    )
    assert filters == ExportFilters(
        label_sources=("unanimous", "review"),
        min_agreement=0.75,
        exclude_flagged=True,
        subsets=("gsm8k", "math"),
        generators=("Qwen2-7B-Instruct",),
        decided_after=datetime(2025, 1, 1, tzinfo=UTC),
        decided_before=datetime.fromisoformat("2025-02-01T12:00:00+02:00"),
    )
    assert filters.as_dict()["decided_after"] == "2025-01-01T00:00:00+00:00"
    assert parse_export_filters({}, label_sources=SOURCES).as_dict() == {}


def test_parse_filters_names_every_bad_field():
    with pytest.raises(InvalidFilters) as caught:
        parse_export_filters(
            {
                "label_sources": ["unanimous", "gut"],
                "min_agreement": 1.5,
                "exclude_flagged": "maybe",
                "subsets": [],
                "generators": [3],
                "decided_after": "yesterday",
                "colour": "blue",
            },
            label_sources=SOURCES,
        )
    assert caught.value.errors == {
        "filters.label_sources": [
            "Unknown label source(s) gut; use unanimous, majority, review, consensus_auto, imported."
        ],
        "filters.min_agreement": ["Must be a number from 0 to 1 (got 1.5)."],
        "filters.exclude_flagged": ["Must be true or false."],
        "filters.subsets": ["Give at least one value, or leave the filter out."],
        "filters.generators": ["Must be a list of strings."],
        "filters.decided_after": ["'yesterday' is not an ISO 8601 date or datetime, e.g. 2025-01-31T12:00:00Z."],
        "filters.colour": [
            "Unknown filter; use label_sources, min_agreement, exclude_flagged, subsets, generators, "
            "decided_after, decided_before."
        ],
    }


def test_parse_filters_date_range_must_be_ordered():
    with pytest.raises(InvalidFilters) as caught:
        parse_export_filters({"decided_after": "2025-02-01", "decided_before": "2025-01-01"}, label_sources=SOURCES)
    assert caught.value.errors == {"filters.decided_before": ["Must be later than decided_after."]}
