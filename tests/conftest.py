"""Shared fixtures. Tests needing PostgreSQL are marked `postgres` and skipped on SQLite."""

import pytest
from django.db import connection

from tests.factories import DatasetFactory, MembershipFactory, UserFactory


def pytest_collection_modifyitems(config, items):
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" in engine:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL=postgres://...)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def dataset(db):
    return DatasetFactory(name="Demo", slug="demo")


@pytest.fixture
def annotator(db, dataset):
    user = UserFactory(username="alice")
    MembershipFactory(dataset=dataset, user=user, role="annotator")
    return user


@pytest.fixture
def manager(db, dataset):
    user = UserFactory(username="mona")
    MembershipFactory(dataset=dataset, user=user, role="manager")
    return user
