"""`scoring_methods` holds distinct known method names, whichever way a dataset is created or changed."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from annotations import suggestion_methods
from annotations.models import Dataset
from annotations.services.datasets import dataset_create
from prmweb.errors import ApplicationError
from tests.annotations.admin_helpers import admin_dataset_form
from tests.annotations.api_support import token_client
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ALLOWED = "Allowed methods: mc, judge, prm, arithmetic, consensus."


@pytest.mark.parametrize(
    "value, message",
    [
        (["foo"], f"Unknown method: 'foo'. {ALLOWED}"),
        (["mc", "astrology", "tarot"], f"Unknown methods: 'astrology', 'tarot'. {ALLOWED}"),
        ([1], f"Each method must be a string. {ALLOWED}"),
        (["mc", None], f"Each method must be a string. {ALLOWED}"),
        ("mc", f"Must be a list of method names. {ALLOWED}"),
        ({"mc": True}, f"Must be a list of method names. {ALLOWED}"),
        (None, "This field may not be null."),
        (["judge", "judge"], "List each method once."),
    ],
)
def test_patch_refuses_anything_but_distinct_known_names(manager, dataset, value, message):
    response = token_client(manager).patch("/api/v1/datasets/demo/", {"scoring_methods": value}, format="json")
    assert response.status_code == 400, response.content
    assert response.json() == {
        "message": f"Invalid input. scoring_methods: {message}",
        "errors": {"scoring_methods": [message]},
    }
    dataset.refresh_from_db()
    assert dataset.scoring_methods == []


def test_patch_stores_known_names_as_sent(manager, dataset):
    client = token_client(manager)
    response = client.patch("/api/v1/datasets/demo/", {"scoring_methods": ["prm", "arithmetic"]}, format="json")
    assert response.status_code == 200
    assert response.json()["scoring_methods"] == ["prm", "arithmetic"]
    dataset.refresh_from_db()
    assert dataset.scoring_methods == ["prm", "arithmetic"]
    assert client.patch("/api/v1/datasets/demo/", {"scoring_methods": []}, format="json").status_code == 200
    dataset.refresh_from_db()
    assert dataset.scoring_methods == []


def test_create_refuses_an_unknown_method_and_stores_nothing(db):
    client = token_client(UserFactory(is_staff=True))
    body = {"name": "X", "slug": "x", "scoring_methods": ["arithmetic", "foo"]}
    response = client.post("/api/v1/datasets/", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"scoring_methods": [f"Unknown method: 'foo'. {ALLOWED}"]}
    assert not Dataset.objects.exists()


def test_the_allowed_names_are_those_registered_read_at_each_call(manager, dataset, monkeypatch):
    only = {"arithmetic": suggestion_methods.method_get("arithmetic")}
    monkeypatch.setattr(suggestion_methods, "_registered", only)
    response = token_client(manager).patch("/api/v1/datasets/demo/", {"scoring_methods": ["mc"]}, format="json")
    assert response.json()["errors"] == {"scoring_methods": ["Unknown method: 'mc'. Allowed methods: arithmetic."]}


def test_the_schema_lists_the_known_names(client):
    schema = client.get("/api/schema/?format=json").json()
    components = schema["components"]["schemas"]
    field = components["DatasetInRequest"]["properties"]["scoring_methods"]
    assert (field["type"], field["uniqueItems"]) == ("array", True)
    names = components[field["items"]["$ref"].rsplit("/", 1)[1]]
    assert names["enum"] == ["mc", "judge", "prm", "arithmetic", "consensus"]


def test_the_service_refuses_unknown_methods_for_every_caller(db):
    with pytest.raises(ApplicationError) as raised:
        dataset_create(user=AnonymousUser(), name="X", slug="x", scoring_methods=["1"])
    assert raised.value.errors == {"scoring_methods": [f"Unknown method: '1'. {ALLOWED}"]}
    assert not Dataset.objects.exists()


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_the_admin_form_offers_the_registered_methods_with_their_titles_and_roles(admin_client):
    body = admin_client.get(reverse("admin:annotations_dataset_add")).content.decode()
    for method in suggestion_methods.registered_methods():
        assert f'value="{method.name}"' in body
        assert f"{method.name}: {method.title}." in body
    assert "arithmetic: Arithmetic check. SymPy checks the explicit arithmetic of every step" in body


def test_the_admin_form_refuses_an_unknown_method(admin_client):
    response = admin_client.post(reverse("admin:annotations_dataset_add"), admin_dataset_form(scoring_methods=["foo"]))
    assert response.status_code == 200  # the form again, with the error
    assert "Select a valid choice. foo is not one of the available choices." in response.content.decode()
    assert not Dataset.objects.exists()


def test_the_admin_form_stores_the_ticked_methods_or_none(admin_client):
    response = admin_client.post(
        reverse("admin:annotations_dataset_add"), admin_dataset_form(scoring_methods=["arithmetic", "mc"])
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Dataset.objects.get(slug="admin-made").scoring_methods == ["arithmetic", "mc"]
    response = admin_client.post(reverse("admin:annotations_dataset_add"), admin_dataset_form(slug="emptied"))
    assert response.status_code == 302
    assert Dataset.objects.get(slug="emptied").scoring_methods == []
