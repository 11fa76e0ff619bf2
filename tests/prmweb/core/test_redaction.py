"""Internal addresses never reach an error text users see."""

import pytest

from prmweb.core.redaction import redact_addresses


@pytest.mark.parametrize(
    "text, shown",
    [
        (
            "Error 111 connecting to 127.0.0.1:6379. Connection refused.",
            "Error 111 connecting to [address hidden]. Connection refused.",
        ),
        (
            "OperationalError: Error -2 connecting to redis:6379. Name or service not known.",
            "OperationalError: Error -2 connecting to [address hidden]. Name or service not known.",
        ),
        ("HTTP 503 from http://judge.internal:8000/v1/completions", "HTTP 503 from [address hidden]"),
        ("broker redis://:s3cret@redis:6379/0 is down", "broker [address hidden] is down"),
        (
            'could not connect to server at "10.0.3.4", port 5432',
            'could not connect to server at "[address hidden]", port 5432',
        ),
        ("Connection refused by [::1]:6379", "Connection refused by [address hidden]"),
        ("worker-7.gpu.cluster.local:50051 timed out", "[address hidden] timed out"),
    ],
)
def test_addresses_are_hidden(text, shown):
    assert redact_addresses(text) == shown


@pytest.mark.parametrize(
    "text",
    [
        "OSError: [Errno 28] No space left on device",
        "step 3: 12:30 is not 1:05",
        "ValueError: x=3, ratio 0.8:0.1:0.1",
        "No solution matches this export's filters. Nothing was written.",
        "gave up after retries: HTTP 429",
    ],
)
def test_text_without_an_address_is_unchanged(text):
    assert redact_addresses(text) == text
