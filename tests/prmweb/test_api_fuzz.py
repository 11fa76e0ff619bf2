"""Fuzz every operation of the OpenAPI schema with schemathesis: no 5xx, documented responses match.

The number of examples per operation is bounded (FUZZ_EXAMPLES, default 25) so CI stays fast.
"""

import os

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance

from tests.factories import DatasetFactory, MembershipFactory, SolutionFactory, UserFactory

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
FUZZ_SLUG = "fuzz"


@pytest.fixture
def api_token(transactional_db):
    user = UserFactory(username="fuzzer", is_staff=True, is_superuser=True)
    dataset = DatasetFactory(slug=FUZZ_SLUG, name="Fuzz")
    MembershipFactory(dataset=dataset, user=user, role="manager")
    SolutionFactory(dataset=dataset, external_id="fuzz-0")
    return Token.objects.create(user=user).key


def _fuzz_operation(operation, token: str) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    def run(case):
        if "slug" in (case.path_parameters or {}):
            case.path_parameters["slug"] = FUZZ_SLUG  # reach the real handlers, not only 404s
        case.call_and_validate(
            headers={"Authorization": f"Token {token}"},
            checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
        )

    run()


def test_every_api_operation_survives_fuzzing_without_5xx(api_token):
    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8, "the schema lost operations"
    failures = []
    for operation in operations:
        try:
            _fuzz_operation(operation, api_token)
        except BaseExceptionGroup as error:  # report every failing operation, not only the first
            failures.append(f"{operation.label}: {str(error)[:1500]}")
    assert not failures, "\n\n".join(failures)
