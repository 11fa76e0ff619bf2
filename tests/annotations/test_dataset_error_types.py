"""A dataset's error-type taxonomy: read and changed over REST, in the admin form and the service, alike."""

import json

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory

from annotations.critique import default_error_types
from annotations.models import Dataset
from annotations.services.datasets import dataset_update
from prmweb.errors import ApplicationError
from tests.annotations.api_support import token_client
from tests.factories import AnnotationFactory, FinalLabelFactory, SolutionFactory, UserFactory

pytestmark = pytest.mark.django_db

CUSTOM = [
    {"slug": "arithmetic", "title": "Arithmetic slip", "key": "a"},
    {"slug": "sign", "title": "Sign error", "key": "s"},
]


def test_a_new_dataset_has_the_default_taxonomy_and_a_patch_replaces_it(manager, dataset):
    client = token_client(manager)
    assert client.get("/api/v1/datasets/demo/").json()["error_types"] == default_error_types()
    sent = [{**CUSTOM[0], "title": "  Arithmetic slip  "}, CUSTOM[1]]
    response = client.patch("/api/v1/datasets/demo/", {"error_types": sent}, format="json")
    assert response.status_code == 200
    assert response.json()["error_types"] == CUSTOM
    dataset.refresh_from_db()
    assert dataset.error_types == CUSTOM


def test_create_takes_a_taxonomy(db):
    client = token_client(UserFactory(username="root", is_staff=True))
    response = client.post("/api/v1/datasets/", {"name": "T", "slug": "t", "error_types": CUSTOM}, format="json")
    assert response.status_code == 201
    assert Dataset.objects.get(slug="t").error_types == CUSTOM


@pytest.mark.parametrize(
    ("value", "messages"),
    [
        ([], ['Must be a non-empty list of {"slug", "title", "key"} objects.']),
        ([{**CUSTOM[0], "key": "A"}], ["Type 1: key must be one lowercase letter a-z."]),
        ([CUSTOM[0], {**CUSTOM[1], "key": "a"}], ["Each key must be unique: a."]),
    ],
)
def test_a_bad_taxonomy_is_refused_naming_the_field(manager, dataset, value, messages):
    response = token_client(manager).patch("/api/v1/datasets/demo/", {"error_types": value}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"error_types": messages}
    dataset.refresh_from_db()
    assert dataset.error_types == default_error_types()


def test_a_type_in_use_keeps_its_slug_but_may_change_title_and_key(manager, dataset):
    solution = SolutionFactory(dataset=dataset)
    AnnotationFactory(solution=solution, earliest_error_step=1, error_type="logic")
    AnnotationFactory(solution=solution, earliest_error_step=1, error_type="logic")
    FinalLabelFactory(solution=solution, label=1, error_type="logic")
    without_logic = [entry for entry in default_error_types() if entry["slug"] != "logic"]
    response = token_client(manager).patch("/api/v1/datasets/demo/", {"error_types": without_logic}, format="json")
    assert response.status_code == 400
    message = (
        "Error type 'logic' is used by 3 annotation(s) or final label(s); keep its slug (the title and key may change)."
    )
    assert response.json() == {
        "message": f"Invalid dataset settings. error_types: {message}",
        "errors": {"error_types": [message]},
    }
    renamed = [
        {**entry, "title": "Reasoning", "key": "r"} if entry["slug"] == "logic" else entry
        for entry in default_error_types()
    ]
    assert dataset_update(dataset=dataset, error_types=renamed).error_types[1] == {
        "slug": "logic",
        "title": "Reasoning",
        "key": "r",
    }


def test_the_service_refuses_a_bad_taxonomy_whatever_the_interface(dataset):
    with pytest.raises(ApplicationError) as error:
        dataset_update(dataset=dataset, error_types=[{"slug": "x"}])
    assert error.value.errors == {"error_types": ['Type 1: must be an object with exactly "slug", "title" and "key".']}


def _admin_form(dataset, error_types):
    model_admin = site._registry[Dataset]
    request = RequestFactory().get("/")
    request.user = UserFactory(username="root", is_staff=True, is_superuser=True)
    form_class = model_admin.get_form(request, dataset)
    data = {name: value for name, value in form_class(instance=dataset).initial.items() if value is not None}
    data["error_types"] = json.dumps(error_types)
    data["scoring_methods"] = list(dataset.scoring_methods)  # checkboxes of the registered methods
    return form_class(data=data, instance=dataset)


def test_the_admin_form_checks_the_taxonomy_as_the_api_does(dataset):
    bad = _admin_form(dataset, [{**CUSTOM[0], "key": "aa"}])
    assert not bad.is_valid()
    assert bad.errors["error_types"] == ["Type 1: key must be one lowercase letter a-z."]
    AnnotationFactory(solution=SolutionFactory(dataset=dataset), earliest_error_step=0, error_type="other")
    dropped = _admin_form(dataset, CUSTOM)
    assert not dropped.is_valid()
    assert dropped.errors["error_types"] == [
        "Error type 'other' is used by 1 annotation(s) or final label(s); keep its slug (the title and key may change)."
    ]
    good = _admin_form(dataset, [*CUSTOM, {"slug": "other", "title": "Other", "key": "o"}])
    assert good.is_valid(), good.errors


def test_an_emptied_admin_field_means_the_default_taxonomy(dataset):
    dataset.error_types = CUSTOM
    dataset.save()
    emptied = _admin_form(dataset, [])
    assert emptied.is_valid(), emptied.errors
    assert emptied.cleaned_data["error_types"] == default_error_types()
