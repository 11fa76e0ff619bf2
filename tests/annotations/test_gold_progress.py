"""Left for me never gives a gold item away: it drops by one with every item served, gold or ordinary."""

import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from annotations.models import Solution
from tests.annotations.workbench_helpers import member, solutions
from tests.factories import DatasetFactory, SolutionFactory


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()


def left_on(html):
    return int(re.search(r"<strong>(\d+)</strong> left for me in this dataset", html).group(1))


@pytest.mark.django_db
def test_the_count_drops_by_one_per_item_whether_gold_or_not_and_matches_the_home_page(client):
    dataset = DatasetFactory(slug="mixed", annotations_per_solution=1, max_annotations=1, gold_rate=0.25)
    solutions(dataset, 9)
    for _ in range(3):
        SolutionFactory(dataset=dataset, is_gold=True, imported_label=0)
    alice = member(dataset, "alice")
    client.force_login(alice)
    home = client.get(reverse("annotations:home")).content.decode()
    expected = int(re.search(r'<dd class="left-for-me">(\d+)</dd>', home).group(1))
    assert expected == 12  # 9 ordinary, and every gold item fits the rate: 3 <= 0.25 * 12
    seen_gold = []
    while True:
        response = client.get(reverse("annotations:next", args=["mixed"]))
        if "/annotate/" not in response.get("Location", ""):
            break
        solution_id = int(response["Location"].rstrip("/").rsplit("/", 1)[1])
        html = client.get(response["Location"]).content.decode()
        assert left_on(html) == expected, f"item {len(seen_gold) + 1}"
        home = client.get(reverse("annotations:home")).content.decode()
        assert f'<dd class="left-for-me">{expected}</dd>' in home
        seen_gold.append(Solution.objects.get(pk=solution_id).is_gold)
        posted = client.post(reverse("annotations:annotate", args=[solution_id]), {"earliest_error_step": "0"})
        assert posted.status_code == 302
        expected -= 1
    assert expected == 0
    assert seen_gold.count(True) == 3 and seen_gold[0] is True  # gold came, and first, as the rate says
