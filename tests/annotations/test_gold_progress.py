""""Left for me" never gives a gold item away: it drops by one with every item served, gold or ordinary."""

import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from annotations.models import Solution
from annotations.selectors.progress import gold_due, items_left_for_me
from tests.annotations.workbench_helpers import member, solutions
from tests.factories import DatasetFactory, SolutionFactory


def served_one_by_one(*, gold_rate, done, gold_done, ordinary_left, gold_left):
    """Return how many items the queue hands out, following its rule one item at a time."""
    served = 0
    while True:
        if gold_left and gold_due(gold_rate=gold_rate, done=done, gold_done=gold_done):
            gold_left, gold_done = gold_left - 1, gold_done + 1
        elif ordinary_left:
            ordinary_left -= 1
        else:
            return served
        done, served = done + 1, served + 1


@pytest.mark.parametrize("gold_rate", [0.0, 0.05, 0.1, 0.25, 0.5, 0.7, 0.99, 1.0])
def test_items_left_for_me_is_what_the_queue_will_hand_out_one_by_one(gold_rate):
    for done in range(0, 16):
        for gold_done in range(0, done + 1):
            for ordinary_left in range(0, 16):
                for gold_left in range(0, 8):
                    counts = {"done": done, "gold_done": gold_done, "ordinary_left": ordinary_left}
                    expected = served_one_by_one(gold_rate=gold_rate, gold_left=gold_left, **counts)
                    assert items_left_for_me(gold_rate=gold_rate, gold_left=gold_left, **counts) == expected, counts


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
