"""The dashboard's evaluation block: the fixture's hand-computed figures rendered, the aggregation chosen by
link, an unknown one refused by name, and a page whose query count does not grow with the dataset."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotations.models import EXTERNAL_ENGINE
from tests.evaluation_fixture import store
from tests.factories import (
    DatasetFactory,
    FinalLabelFactory,
    MembershipFactory,
    ProblemFactory,
    SolutionFactory,
    SuggestionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset():
    dataset = DatasetFactory(slug="samples", name="Samples")
    store(dataset)
    a = dataset.solutions.get(external_id="gsm8k-a")
    SuggestionFactory(solution=a, method="team-orm", config_key="v2", engine=EXTERNAL_ENGINE, label=None,
                      step_scores=[None, None, 0.9], model_name="team/orm")  # fmt: skip
    return dataset


@pytest.fixture
def client_of(client, dataset):
    manager = UserFactory(username="mona")
    MembershipFactory(dataset=dataset, user=manager, role="manager")
    client.force_login(manager)
    return client


def _row(body, method, subset):
    pattern = rf'<tr class="[^"]*" data-method="{method}" data-config="[^"]*" data-subset="{subset}">(.*?)</tr>'
    match = re.search(pattern, body, re.S)
    assert match, (method, subset)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", match.group(1), re.S)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in cells]


def test_the_table_shows_every_figure_per_subset_and_pooled(client_of, dataset):
    body = client_of.get(reverse("annotations:dashboard", args=[dataset.slug])).content.decode()
    section = body.split('id="evaluation"')[1].split("</section>")[0]
    assert "4 problems with 2+ solutions of known correctness, 11 solutions" in section
    # prm under min: picks a, e, h, j (see tests/prmweb/core/test_evaluation_report.py)
    assert _row(section, "prm", "gsm8k") == [
        "prm", "prm-model", "gsm8k", "2", "3 to 4", "0.500", "0.500", "1.000", "0.000 (0 of 2)", "0.286 (2 of 7)",
        "0.889", "1.000",
    ]  # fmt: skip
    assert _row(section, "prm", "all groups") == [
        "prm", "prm-model", "all groups", "4", "2 to 4", "0.500", "0.500", "0.750", "0.000 (0 of 4)", "0.222 (2 of 9)",
        "0.741", "0.818",
    ]  # fmt: skip
    assert _row(section, "prm", "mean")[-2] == "0.444"
    undefined = "\N{EN DASH} (0 of 0)"  # no step scores: no minimum to place
    judge = ["0.750", "0.500", "0.750", "0.000 (0 of 4)", undefined, "0.667", "0.909"]
    assert _row(section, "judge", "all groups")[5:] == judge
    orm = _row(section, "team-orm", "all groups")
    assert orm[:3] == ["team-orm v2 external", "team/orm", "all groups"]
    # only a is scored: p1 picks a; the others pick their first sample (e, h, j): BoN 2 of 4; F1 0 (no labels)
    assert (orm[5], orm[10], orm[11]) == ("0.500", "0.000", "0.091")
    order = [section.index(f'data-method="{method}"') for method in ("judge", "prm", "team-orm")]
    assert order == sorted(order)
    assert '<strong aria-current="true">min</strong>' in section and 'href="?aggregate=last#evaluation"' in section


def test_the_chart_and_its_numbers(client_of, dataset):
    body = client_of.get(reverse("annotations:dashboard", args=[dataset.slug])).content.decode()
    chart = body.split('id="bon-curve"')[1].split("</svg>")[0]
    assert 'data-label="prm" data-values="0.333,0.542,0.500"' in chart
    assert 'data-label="pass@N (any correct)" data-values="0.333,0.625,0.750"' in chart
    assert 'data-label="team-orm v2"' in chart
    numbers = body.split('id="bon-curve-numbers"')[1].split("</table>")[0]
    assert "<th>N = 1</th><th>N = 2</th><th>N = 4</th>" in numbers
    assert '<tr data-series="prm"><td>prm</td><td>0.333</td><td>0.542</td><td>0.500</td></tr>' in numbers


def test_the_aggregation_is_chosen_by_link_and_an_unknown_one_is_refused(client_of, dataset):
    url = reverse("annotations:dashboard", args=[dataset.slug])
    section = client_of.get(url, {"aggregate": "last"}).content.decode().split('id="evaluation"')[1]
    assert '<strong aria-current="true">last</strong>' in section
    # last: p1 picks b, right answer but its step 2 is wrong
    assert _row(section, "prm", "gsm8k")[8] == "0.500 (1 of 2)"
    assert _row(section, "prm", "all groups")[8] == "0.250 (1 of 4)"
    response = client_of.get(url, {"aggregate": "mean"})
    assert response.status_code == 404
    assert "Unknown aggregate &#x27;mean&#x27;: choose one of min, product, last." in response.content.decode()


def test_an_empty_dataset_says_so(client):
    dataset = DatasetFactory(slug="empty")
    manager = UserFactory(username="mona")
    MembershipFactory(dataset=dataset, user=manager, role="manager")
    client.force_login(manager)
    body = client.get(reverse("annotations:dashboard", args=[dataset.slug])).content.decode()
    assert "No method has a finished suggestion on a problem with two or more solutions" in body
    assert 'id="bon-curve"' not in body


def test_the_page_runs_the_same_queries_whatever_the_dataset_size(client_of, dataset):
    url = reverse("annotations:dashboard", args=[dataset.slug])
    with CaptureQueriesContext(connection) as small:
        assert client_of.get(url).status_code == 200
    for index in range(15):
        problem = ProblemFactory(dataset=dataset)
        for check in (True, False, index % 2 == 0):
            solution = SolutionFactory(dataset=dataset, problem=problem, subset=f"s{index % 3}", answer_check=check)
            FinalLabelFactory(solution=solution, label=-1 if check else 1)
            SuggestionFactory(solution=solution, method="prm", label=-1, step_scores=[0.5, 0.6, 0.7])
            SuggestionFactory(solution=solution, method=f"ext-{index % 3}", engine=EXTERNAL_ENGINE, label=None,
                              step_scores=[0.2, 0.3, 0.1])  # fmt: skip
    with CaptureQueriesContext(connection) as large:
        body = client_of.get(url).content.decode()
    assert len(small.captured_queries) == len(large.captured_queries)
    assert "19 problems with 2+ solutions of known correctness, 56 solutions" in body
