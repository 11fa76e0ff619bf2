"""Helpers shared by the REST API tests: token clients, payloads, the ProcessBench fixture records."""

import json
from pathlib import Path
from typing import Any

from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "processbench"


def token_client(user) -> APIClient:
    """Return an API client that sends `Authorization: Token <key>` for the user."""
    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def processbench_records() -> list[dict[str, Any]]:
    return json.loads((FIXTURES / "api_records.json").read_text(encoding="utf-8"))


def solution(index: int = 0, **overrides: Any) -> dict[str, Any]:
    """Return a valid solution object for the API (3 steps, unique by index)."""
    body: dict[str, Any] = {
        "id": f"ext-{index}",
        "problem": f"What is {index} + {index}?",
        "steps": [f"We add {index} and {index}.", f"That gives {2 * index}.", f"The answer is \\boxed{{{2 * index}}}."],
        "generator": "test-model",
    }
    body.update(overrides)
    return body


def solutions_url(slug: str = "demo") -> str:
    return reverse("api:solution-list", kwargs={"slug": slug})


def solution_url(solution_id: int, slug: str = "demo") -> str:
    return reverse("api:solution-detail", kwargs={"slug": slug, "solution_id": solution_id})


def post_json(client: APIClient, url: str, payload: Any):
    return client.post(url, data=json.dumps(payload), content_type="application/json")


def post_raw(client: APIClient, url: str, body: bytes):
    return client.post(url, data=body, content_type="application/json")
