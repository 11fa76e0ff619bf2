"""Critique figures on a small fixture, against values computed by hand; the API and the dashboard show them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotations.critique_metrics import median_from_counts
from annotations.selectors.critique_quality import dataset_critique_quality
from tests.annotations.api_support import token_client
from tests.factories import (
    AnnotationFactory,
    DatasetFactory,
    FinalLabelFactory,
    MembershipFactory,
    SolutionFactory,
    SuggestionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def build_scenario():
    """Six solutions with final labels, critiques and annotations (hand-computed figures in each test)."""
    dataset = DatasetFactory(slug="critic-quality")
    ann, ben, cat = (UserFactory(username=name) for name in ("ann", "ben", "cat"))

    def solution(subset, generator, steps, label, source, error_type=None, explanation="", by=""):
        made = SolutionFactory(
            dataset=dataset, subset=subset, generator=generator, steps=[f"s{i}" for i in range(steps)]
        )
        FinalLabelFactory(
            solution=made,
            label=label,
            source=source,
            error_type=error_type,
            explanation=explanation,
            explanation_source=by,
        )
        return made

    s1 = solution("gsm8k", "gen-a", 5, 1, "unanimous", "calculation", "abcde", "human")
    s2 = solution("gsm8k", "gen-b", 5, 4, "review", "logic", "0123456789", "reviewer")
    s3 = solution("math", "gen-a", 3, 0, "majority")
    s4 = solution("math", "gen-b", 5, -1, "unanimous", None, "fine", "human")
    s5 = solution("math", "gen-a", 2, 1, "consensus_auto", None, "x" * 20, "judge")
    s6 = solution("gsm8k", "gen-a", 5, 2, "imported", "other")
    for target, votes in (
        (s1, ((ann, 1, "calculation", "abcde"), (ben, 1, "calculation", ""), (cat, 1, "logic", "xy"))),
        (s2, ((ann, 4, "logic", "rrr"), (ben, 2, None, ""), (cat, 4, "logic", ""))),
        (s3, ((ann, 0, "misread", ""), (ben, 0, "calculation", ""), (cat, 1, None, "q" * 7))),
        (s4, ((ann, -1, None, "fine"), (ben, -1, None, ""), (cat, -1, None, ""))),
    ):
        for annotator, step, error_type, rationale in votes:
            AnnotationFactory(
                solution=target,
                annotator=annotator,
                earliest_error_step=step,
                error_type=error_type,
                rationale=rationale,
            )
    for target, label, text in (
        (s1, 1, "crit"),
        (s2, 3, "no"),
        (s3, 0, ""),
        (s4, -1, "ok"),
        (s5, 1, "j"),
        (s6, 2, "t"),
    ):
        SuggestionFactory(solution=target, method="judge", label=label, rationale=text)
    SuggestionFactory(solution=s1, method="judge", config_key="big", status="failed", label=None)
    SuggestionFactory(solution=s1, method="mc", label=1, rationale="not a critique")
    return dataset


def test_error_types_overall_by_subset_generator_and_position():
    types = dataset_critique_quality(dataset=build_scenario()).error_types
    assert types.types == ["calculation", "logic", "misread", "unjustified", "wrong_fact", "other", "(untyped)"]
    assert dict(types.overall) == {"calculation": 1, "logic": 1, "other": 1, "(untyped)": 2}
    assert {name: dict(counts) for name, counts in types.by_subset.items()} == {
        "gsm8k": {"calculation": 1, "logic": 1, "other": 1},
        "math": {"(untyped)": 2},
    }
    assert {name: dict(counts) for name, counts in types.by_generator.items()} == {
        "gen-a": {"calculation": 1, "(untyped)": 2, "other": 1},
        "gen-b": {"logic": 1},
    }
    # positions: s1 1/4 -> bin 2, s2 4/4 -> 9, s3 0/2 -> 0, s5 1/1 -> 9, s6 2/4 -> 5
    assert [dict(counts) for counts in types.by_position] == [
        {"(untyped)": 1},
        {},
        {"calculation": 1},
        {},
        {},
        {"other": 1},
        {},
        {},
        {},
        {"logic": 1, "(untyped)": 1},
    ]


def test_error_type_agreement_among_annotators_who_agreed_on_the_step():
    agreement = dataset_critique_quality(dataset=build_scenario()).type_agreement
    # s1 {calculation: 2, logic: 1}, s2 {logic: 2}, s3 {misread: 1, calculation: 1}; s4 is all correct.
    # P = (2/6 + 2/2 + 0/2) / 3 = 4/9; Pe = (3/7)^2 + (3/7)^2 + (1/7)^2 = 19/49; kappa = (4/9 - 19/49) / (30/49) = 5/54
    assert (agreement.items, agreement.ratings) == (3, 7)
    assert agreement.fleiss_kappa == pytest.approx(5 / 54)
    assert agreement.pairwise_agreement == pytest.approx(2 / 5)


def test_explanation_share_and_median_length():
    figures = dataset_critique_quality(dataset=build_scenario())
    final = figures.final_explanations  # erroneous: s1 5, s2 10, s3 0, s5 20, s6 0 characters
    assert (final.labels, final.explained, final.share, final.median_chars) == (5, 3, 0.6, 10.0)
    people = figures.annotation_explanations  # erroneous annotations: 9; explained lengths 5, 2, 3, 7
    assert (people.labels, people.explained, people.median_chars) == (9, 4, 4.0)
    assert people.share == pytest.approx(4 / 9)


def test_judge_agreement_per_subset_against_reference_labels_only():
    figures = dataset_critique_quality(dataset=build_scenario())
    rows = [(row.subset, row.judged, row.agreeing, row.agreeing_with_text, row.rate) for row in figures.judge]
    assert rows == [("gsm8k", 3, 2, 2, pytest.approx(2 / 3)), ("math", 2, 2, 1, 1.0)]  # s5 (consensus_auto) left out
    pooled = figures.judge_pooled
    assert (pooled.subset, pooled.judged, pooled.agreeing, pooled.agreeing_with_text, pooled.rate) == (
        "all",
        5,
        4,
        3,
        0.8,
    )


def test_query_count_is_five_whatever_the_dataset_size():
    dataset = build_scenario()
    with CaptureQueriesContext(connection) as small:
        dataset_critique_quality(dataset=dataset)
    for index in range(20):
        target = SolutionFactory(dataset=dataset, subset=f"s{index % 4}", generator=f"g{index % 3}")
        FinalLabelFactory(solution=target, label=index % 3, error_type="logic", explanation="e" * index)
        AnnotationFactory(solution=target, earliest_error_step=index % 3, error_type="logic")
        AnnotationFactory(solution=target, earliest_error_step=index % 3, error_type="other")
        SuggestionFactory(solution=target, method="judge", label=index % 3, rationale="r")
    with CaptureQueriesContext(connection) as large:
        dataset_critique_quality(dataset=dataset)
    assert len(small.captured_queries) == len(large.captured_queries) == 5


def test_median_from_counts():
    assert median_from_counts({}) is None
    assert median_from_counts({7: 1}) == 7.0
    assert median_from_counts({2: 1, 3: 1, 5: 1, 7: 1}) == 4.0
    assert median_from_counts({1: 3, 100: 2}) == 1.0
    assert median_from_counts({1: 2, 100: 2}) == 50.5


@pytest.fixture
def reviewer_of():
    def make(dataset):
        user = UserFactory(username="rita")
        MembershipFactory(dataset=dataset, user=user, role="reviewer")
        return user

    return make


def test_metrics_api_adds_the_critique_figures(reviewer_of):
    dataset = build_scenario()
    body = token_client(reviewer_of(dataset)).get(f"/api/v1/datasets/{dataset.slug}/metrics/").json()
    critique = body["critique"]
    assert critique["error_types"]["overall"] == {
        "calculation": 1,
        "logic": 1,
        "misread": 0,
        "unjustified": 0,
        "wrong_fact": 0,
        "other": 1,
        "(untyped)": 2,
    }
    assert critique["error_types"]["types"][2] == {"slug": "misread", "title": "Misread the problem"}
    assert critique["error_types"]["by_position"][9] == {
        "from": 0.9,
        "to": 1.0,
        "counts": {
            "calculation": 0,
            "logic": 1,
            "misread": 0,
            "unjustified": 0,
            "wrong_fact": 0,
            "other": 0,
            "(untyped)": 1,
        },
    }
    assert critique["error_types"]["by_subset"]["math"]["(untyped)"] == 2
    assert critique["error_types"]["by_generator"]["gen-b"]["logic"] == 1
    assert critique["type_agreement"]["fleiss_kappa"] == pytest.approx(5 / 54)
    assert critique["explanations"]["final_labels"] == {"labels": 5, "explained": 3, "share": 0.6, "median_chars": 10.0}
    assert critique["explanations"]["annotations"]["median_chars"] == 4.0
    assert critique["judge"]["subsets"][1] == {
        "subset": "math",
        "judged": 2,
        "agreeing": 2,
        "rate": 1.0,
        "agreeing_with_text": 1,
    }
    assert critique["judge"]["all"]["rate"] == 0.8
    assert set(critique["definitions"]) == {"error_types", "type_agreement", "explanations", "judge"}


def test_dashboard_shows_the_critique_block(client, reviewer_of):
    dataset = build_scenario()
    client.force_login(reviewer_of(dataset))
    body = client.get(reverse("annotations:dashboard", args=[dataset.slug])).content.decode()
    block = body.split('id="critique"')[1]
    assert '<td id="final-explained">0.600 (3)</td>' in block
    assert '<td id="final-median-chars">10.0</td>' in block
    assert '<td id="annotation-explained">0.444 (4)</td>' in block
    assert '<td id="annotation-median-chars">4.0</td>' in block
    assert '<td id="type-kappa">0.093</td>' in block
    assert '<td id="type-items">3</td>' in block
    assert (
        '<tr data-group="gsm8k"><td>gsm8k</td><td>1</td><td>1</td><td>0</td><td>0</td><td>0</td><td>1</td><td>0</td>'
        "<td>3</td></tr>"
    ) in block
    assert '<tr data-group="0.9-1.0"><td>0.9-1.0</td><td>0</td><td>1</td>' in block
    assert "<th>Misread the problem</th>" in block and "<th>(untyped)</th>" in block
    assert ('<tr data-subset="gsm8k"><td>gsm8k</td><td>3</td><td>2</td><td>0.667</td><td>2</td></tr>') in block
    assert '<g class="bar" data-label="Calculation" data-value="1">' in block


def test_dashboard_query_count_does_not_grow_with_critiques(client, reviewer_of):
    dataset = build_scenario()
    client.force_login(reviewer_of(dataset))
    url = reverse("annotations:dashboard", args=[dataset.slug])
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for index in range(10):
        target = SolutionFactory(dataset=dataset, subset=f"s{index}")
        FinalLabelFactory(solution=target, label=1, error_type="logic", explanation="why")
        AnnotationFactory(solution=target, earliest_error_step=1, error_type="logic", rationale="r")
        SuggestionFactory(solution=target, method="judge", label=1, rationale="c")
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(few.captured_queries) == len(many.captured_queries)
