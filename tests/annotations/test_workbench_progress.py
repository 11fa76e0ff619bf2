"""The annotation loop over a day: progress counts, going back to earlier items, claims enforced."""

import datetime

import pytest
import yaml
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from annotations.models import Annotation, Claim, FinalLabel, Solution, SolutionStatus
from annotations.selectors.progress import LEFT_FOR_ME_CAP
from annotations.services.annotations import AnnotationInput, annotation_submit
from annotations.services.claims import claim_next
from annotations.services.gold import solution_set_gold
from tests.annotations.workbench_helpers import member
from tests.factories import AnnotationFactory, DatasetFactory, FinalLabelFactory, SolutionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()


@pytest.fixture
def dataset():
    return DatasetFactory(name="Algebra", slug="algebra", annotations_per_solution=1, max_annotations=1)


@pytest.fixture
def alice(dataset):
    return member(dataset, "alice")


def label_next(dataset, user, step=0):
    """Claim the next solution for the user, label it and return its id."""
    claim = claim_next(dataset=dataset, annotator=user)
    annotation_submit(solution_id=claim.solution_id, annotator=user, data=AnnotationInput(earliest_error_step=step))
    return claim.solution_id


def page_html(client, solution_id):
    response = client.get(reverse("annotations:annotate", args=[solution_id]))
    assert response.status_code == 200
    return response.content.decode()


def progress_line(done, left):
    return (
        f'<span class="progress-line" id="progress-line"><strong>{done}</strong> done today · '
        f"<strong>{left}</strong> left for me in this dataset</span>"
    )


# ---- 1. progress ----


def test_the_annotation_page_counts_what_i_did_today_and_what_is_left_for_me(client, dataset, alice):
    solutions = [SolutionFactory(dataset=dataset) for _ in range(7)]
    bob = member(dataset, "bob")
    label_next(dataset, alice)
    label_next(dataset, alice)
    yesterday = timezone.now() - datetime.timedelta(days=1)
    old = label_next(dataset, alice)
    Annotation.objects.filter(solution_id=old).update(created_at=yesterday)  # not today
    held_by_bob = claim_next(dataset=dataset, annotator=bob).solution_id  # k = 1: not left for me
    SolutionFactory(dataset=dataset, is_gold=True, imported_label=0)  # gold comes on top of the queue
    AnnotationFactory(solution=SolutionFactory(dataset=DatasetFactory(slug="other")), annotator=alice)
    current = claim_next(dataset=dataset, annotator=alice).solution_id
    client.force_login(alice)
    # 7 solutions: 3 labelled by me, 1 held by bob; left: the current one and the two after it
    assert held_by_bob == solutions[3].pk and current == solutions[4].pk
    assert progress_line(2, 3) in page_html(client, current)
    home = client.get(reverse("annotations:home")).content.decode()
    assert '<dd class="done-by-me">3</dd>' in home
    assert '<dd class="done-today">2</dd>' in home
    assert '<dd class="left-for-me">3</dd>' in home


def test_left_for_me_follows_the_protocol_with_several_annotators_per_solution(client):
    dataset = DatasetFactory(slug="triple", annotations_per_solution=3, max_annotations=5)
    alice, bob = member(dataset, "alice"), member(dataset, "bob")
    first, second, third = (SolutionFactory(dataset=dataset) for _ in range(3))
    label_next(dataset, bob)  # first: 1 of 3 annotations, still open for alice
    Solution.objects.filter(pk=second.pk).update(annotation_count=3, status=SolutionStatus.FINAL)
    held = claim_next(dataset=dataset, annotator=alice).solution_id
    client.force_login(alice)
    assert held == first.pk
    assert progress_line(0, 2) in page_html(client, held)  # first (mine now) and third
    assert third.pk not in (first.pk, second.pk)


def _left_on_home(client) -> int:
    html = client.get(reverse("annotations:home")).content.decode()
    return int(html.split('<dd class="left-for-me">', 1)[1].split("<", 1)[0])


@pytest.mark.parametrize("rate", [0.0, 0.1, 0.3, 0.5, 1.0])
def test_left_for_me_counts_the_gold_items_the_queue_will_mix_in(client, dataset, alice, rate):
    """ "Left for me" used to count the ordinary queue only: at a gold rate the queue served more than it said."""
    dataset.gold_rate = rate
    dataset.save()
    for index in range(5):
        SolutionFactory(dataset=dataset)
        if index < 3:
            solution_set_gold(solution_id=SolutionFactory(dataset=dataset, imported_label=0).pk, is_gold=True)
    client.force_login(alice)
    left = _left_on_home(client)
    served = 0
    while (claim := claim_next(dataset=dataset, annotator=alice)) is not None:
        assert progress_line(served, left - served) in page_html(client, claim.solution_id)  # this one included
        annotation_submit(solution_id=claim.solution_id, annotator=alice, data=AnnotationInput(earliest_error_step=0))
        served += 1
        assert _left_on_home(client) == left - served
    assert left == served
    gold_served = Annotation.objects.filter(annotator=alice, solution__is_gold=True).count()
    assert gold_served == {0.0: 0, 0.1: 1, 0.3: 3, 0.5: 3, 1.0: 3}[rate]


def test_left_for_me_is_a_capped_count(client, dataset, alice):
    problem = SolutionFactory(dataset=dataset).problem
    Solution.objects.bulk_create(
        Solution(dataset=dataset, problem=problem, steps=["a", "b"], num_steps=2, content_hash=f"h{index}")
        for index in range(LEFT_FOR_ME_CAP + 5)
    )
    current = claim_next(dataset=dataset, annotator=alice).solution_id
    client.force_login(alice)
    assert progress_line(0, f"{LEFT_FOR_ME_CAP}+") in page_html(client, current)
    home = client.get(reverse("annotations:home")).content.decode()
    assert f'<dd class="left-for-me">{LEFT_FOR_ME_CAP}+</dd>' in home


def test_home_counts_my_submitted_annotations_and_names_the_settled_figure(client):
    dataset = DatasetFactory(name="Triple", slug="triple", annotations_per_solution=3)
    alice = member(dataset, "alice")
    for _ in range(4):
        SolutionFactory(dataset=dataset)
    label_next(dataset, alice)
    label_next(dataset, alice)
    client.force_login(alice)
    html = client.get(reverse("annotations:home")).content.decode()
    assert '<dd class="done-by-me">2</dd>' in html
    assert '<dd class="done-today">2</dd>' in html
    assert '<dd class="left-for-me">2</dd>' in html
    assert 'aria-valuenow="50"\n         aria-label="My annotations, of mine plus what is left for me"' in html
    assert '<dt>Settled overall</dt><dd class="done-overall">0 of 4</dd>' in html
    assert 'aria-valuenow="0"\n         aria-label="Solutions settled overall"' in html


# ---- 2. back and undo ----


def test_back_links_lead_to_my_previous_item_and_the_one_before(client, dataset, alice):
    for _ in range(4):
        SolutionFactory(dataset=dataset)
    first, second, third = (label_next(dataset, alice) for _ in range(3))
    current = claim_next(dataset=dataset, annotator=alice).solution_id
    client.force_login(alice)
    html = page_html(client, current)
    assert f'data-previous-url="/annotate/{third}/"' in html
    assert f'id="previous-link" href="/annotate/{third}/">← Previous item <kbd>b</kbd></a>' in html
    assert f'id="before-previous-link" href="/annotate/{second}/">← The one before</a>' in html
    assert 'id="queue-link"' not in html  # I am on my queue item
    html = page_html(client, third)  # going back once more from there reaches the one before
    assert f'data-previous-url="/annotate/{second}/"' in html
    assert f'id="before-previous-link" href="/annotate/{first}/"' in html
    queue_link = 'id="queue-link" href="/datasets/algebra/next/">Back to the queue <kbd>n</kbd></a>'
    assert queue_link in html
    html = page_html(client, first)
    assert "data-previous-url" not in html and 'id="previous-link"' not in html


def test_saving_an_edit_returns_to_where_i_was_in_the_queue(client, dataset, alice):
    dataset.annotations_per_solution = dataset.max_annotations = 3  # my label alone does not settle it
    dataset.save()
    for _ in range(3):
        SolutionFactory(dataset=dataset)
    earlier = label_next(dataset, alice, step=0)
    current = claim_next(dataset=dataset, annotator=alice).solution_id
    client.force_login(alice)
    html = page_html(client, earlier)
    assert "You are changing your annotation." in html and "Save changes <kbd>s</kbd>" in html
    response = client.post(reverse("annotations:annotate", args=[earlier]), {"earliest_error_step": "2"})
    assert response.url == reverse("annotations:next", args=["algebra"])
    assert client.get(response.url).url == reverse("annotations:annotate", args=[current])
    assert Annotation.objects.get(solution_id=earlier).earliest_error_step == 2
    assert list(Claim.objects.values_list("solution_id", flat=True)) == [current]
    html = client.get(reverse("annotations:annotate", args=[current])).content.decode()
    assert f"Annotation of solution {earlier} changed: step 3 is the earliest error. Back to your queue." in html


SETTLED = "your annotation is read-only. The final label: step 2."  # what was settled, not only that it was


@pytest.mark.parametrize(
    ("status", "source", "reason"),
    [
        ("final", "unanimous", f"This solution&#x27;s label is final (its annotators agreed unanimously): {SETTLED}"),
        ("final", "majority", f"This solution&#x27;s label is final (a majority of its annotators agreed): {SETTLED}"),
        ("final", "review", f"This solution&#x27;s label is final (a reviewer decided it): {SETTLED}"),
        (
            "discarded",
            None,
            "This solution was discarded (its annotators did not agree): your annotation is read-only.",
        ),
    ],
)
def test_a_settled_item_is_read_only_with_the_reason(client, dataset, alice, status, source, reason):
    solution = SolutionFactory(dataset=dataset)
    label_next(dataset, alice)
    Solution.objects.filter(pk=solution.pk).update(status=status)
    FinalLabel.objects.filter(solution=solution).delete()
    if source:
        FinalLabelFactory(solution=solution, label=1, source=source)
    client.force_login(alice)
    html = page_html(client, solution.pk)
    assert f'id="read-only-banner">{reason}</div>' in html
    assert 'data-editable="false"' in html and 'id="submit-button"' not in html
    assert 'placeholder="Why is this step wrong?"' not in html and 'id="timer"' not in html
    response = client.post(reverse("annotations:annotate", args=[solution.pk]), {"earliest_error_step": "1"})
    assert response.status_code == 302
    assert Annotation.objects.get(solution=solution).earliest_error_step == 0


def test_a_gold_item_settles_like_any_other_and_never_says_gold_unless_revealed(client, dataset, alice):
    dataset.gold_rate = 1.0
    dataset.gold_feedback = False
    dataset.save()
    SolutionFactory(dataset=dataset)
    gold = solution_set_gold(solution_id=SolutionFactory(dataset=dataset, imported_label=1).pk, is_gold=True)
    assert label_next(dataset, alice, step=0) == gold.pk  # k = 1: one annotation settles it, as any solution
    client.force_login(alice)
    html = page_html(client, gold.pk)
    assert 'id="read-only-banner">This solution&#x27;s label is final: your annotation is read-only.</div>' in html
    assert "gold" not in html.lower()
    response = client.post(reverse("annotations:annotate", args=[gold.pk]), {"earliest_error_step": "1"})
    assert response.status_code == 302
    assert Annotation.objects.get(solution=gold).earliest_error_step == 0


def test_nothing_left_links_to_my_previous_item(client, dataset, alice):
    last = SolutionFactory(dataset=dataset)
    label_next(dataset, alice)
    client.force_login(alice)
    html = client.get(reverse("annotations:next", args=["algebra"])).content.decode()
    assert "Nothing left to annotate" in html
    assert f'id="previous-link" href="/annotate/{last.pk}/">← My previous item <kbd>b</kbd></a>' in html


# ---- 11. claims enforced ----


def test_a_heartbeat_without_my_claim_is_refused(client, dataset, alice):
    mine, other = SolutionFactory(dataset=dataset), SolutionFactory(dataset=dataset)
    claim_next(dataset=dataset, annotator=alice)
    client.force_login(alice)
    assert client.post(reverse("annotations:heartbeat", args=[mine.pk])).status_code == 200
    refused = client.post(reverse("annotations:heartbeat", args=[other.pk]))
    assert refused.status_code == 409
    assert refused.json() == {
        "message": "You hold no claim on this solution: it was released, or never handed to you by the queue. "
        "Go on to the next solution.",
        "errors": {"claim": ["none"]},
    }
    assert list(Claim.objects.values_list("solution_id", flat=True)) == [mine.pk]


def test_no_api_operation_accepts_an_annotation():
    """The REST API has no way to submit a label: annotations come only through the workbench's claims."""
    schema = yaml.safe_load(APIClient().get("/api/schema/").content)
    writes = 0
    for path, operations in schema["paths"].items():
        for method in ("post", "put", "patch"):
            body = operations.get(method, {}).get("requestBody")
            if body is not None:
                writes += 1
                text = "".join(yaml.safe_dump(node) for node in _reachable(body, schema["components"]["schemas"]))
                assert "earliest_error_step" not in text, (path, method)
    assert writes > 5  # the ingestion, dataset, member, gold and export writes were all looked at


def _reachable(node, components, seen=None):
    """Yield the node and every schema component it refers to, transitively."""
    seen = set() if seen is None else seen
    yield node
    stack = [node]
    while stack:
        current = stack.pop()
        children = current.values() if isinstance(current, dict) else current if isinstance(current, list) else []
        for child in children:
            stack.append(child)
        ref = current.get("$ref") if isinstance(current, dict) else None
        name = ref.rsplit("/", 1)[1] if isinstance(ref, str) else None
        if name in components and name not in seen:
            seen.add(name)
            yield components[name]
            stack.append(components[name])
