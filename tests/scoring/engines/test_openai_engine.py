"""The OpenAI-compatible engine against a local recorded-protocol server (http.server on 127.0.0.1).

No real `vllm serve` can run on this CPU-only machine, so the server below speaks the documented
`/v1/completions` protocol: a list of prompts with `n` samples each, len(prompts) * n choices whose
`index` i belongs to prompt i // n (returned here out of order on purpose), and `usage` totals.
It can answer a scripted sequence of statuses (429, 503, 400) before succeeding.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from scoring.engines.base import EngineError, SamplingParams, TransientEngineError
from scoring.engines.config import EngineSettings
from scoring.engines.openai_engine import OpenAICompletionsEngine


class CompletionsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), CompletionsHandler)
        self.requests: list[dict] = []
        self.headers_seen: list[dict] = []
        self.script: list[tuple[int, dict]] = []  # (status, headers) answered before the real answer
        self.delay = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class CompletionsHandler(BaseHTTPRequestHandler):
    server: CompletionsServer

    def log_message(self, *args):
        pass

    def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(body)
        self.server.headers_seen.append(dict(self.headers))
        if self.path != "/v1/completions":
            return self._send(404, {"error": {"message": f"no route {self.path}"}})
        if self.server.delay:
            threading.Event().wait(self.server.delay)
        if self.server.script:
            status, headers = self.server.script.pop(0)
            return self._send(status, {"error": {"message": f"scripted {status}"}}, headers)
        if body["model"] != "judge-72b":
            return self._send(404, {"error": {"message": f"The model `{body['model']}` does not exist."}})
        prompts, n = body["prompt"], body["n"]
        choices = [
            {"index": p * n + k, "text": f"critique {k} of prompt {p} \\boxed{{{p}}}", "finish_reason": "stop"}
            for p in range(len(prompts))
            for k in range(n)
        ]
        choices.reverse()  # clients must group by index, not by position
        usage = {"prompt_tokens": 10 * len(prompts), "completion_tokens": 7 * len(choices)}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        self._send(200, {"id": "cmpl-1", "object": "text_completion", "choices": choices, "usage": usage})


@pytest.fixture
def server():
    server = CompletionsServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _engine(url: str, **overrides) -> tuple[OpenAICompletionsEngine, list[float]]:
    sleeps: list[float] = []
    values = {"model": "judge-72b", "api_key": "sk-test", "max_retries": 3, "retry_backoff_seconds": 0.5}
    config = EngineSettings(kind="openai", base_url=url, **{**values, **overrides})
    return OpenAICompletionsEngine(config, sleep=sleeps.append), sleeps


def test_completions_are_grouped_by_prompt_with_the_request_fields_and_usage(server):
    engine, _ = _engine(server.url)
    params = SamplingParams(n=2, max_tokens=512, temperature=0.6, top_p=0.9, seed=11, stop=("</s>",))

    generations = engine.generate(["first prompt", "second", "third one"], params)

    assert [g.texts for g in generations] == [
        ("critique 0 of prompt 0 \\boxed{0}", "critique 1 of prompt 0 \\boxed{0}"),
        ("critique 0 of prompt 1 \\boxed{1}", "critique 1 of prompt 1 \\boxed{1}"),
        ("critique 0 of prompt 2 \\boxed{2}", "critique 1 of prompt 2 \\boxed{2}"),
    ]
    assert server.requests == [
        {
            "model": "judge-72b",
            "prompt": ["first prompt", "second", "third one"],
            "n": 2,
            "max_tokens": 512,
            "temperature": 0.6,
            "top_p": 0.9,
            "seed": 11,
            "stop": ["</s>"],
        }
    ]
    assert server.headers_seen[0]["Authorization"] == "Bearer sk-test"
    assert sum(g.prompt_tokens for g in generations) == 30
    assert sum(g.generated_tokens for g in generations) == 42
    assert generations[0].prompt_tokens > generations[1].prompt_tokens  # split by prompt length


def test_prompts_are_split_into_requests_of_bounded_size(server):
    engine, _ = _engine(server.url, prompts_per_request=2)

    generations = engine.generate(["a", "b", "c"], SamplingParams(n=1))

    assert [request["prompt"] for request in server.requests] == [["a", "b"], ["c"]]
    assert [g.texts[0] for g in generations] == [
        "critique 0 of prompt 0 \\boxed{0}",
        "critique 0 of prompt 1 \\boxed{1}",
        "critique 0 of prompt 0 \\boxed{0}",
    ]


def test_429_and_503_are_retried_with_backoff_then_succeed(server):
    server.script = [(429, {"Retry-After": "2"}), (503, {})]
    engine, sleeps = _engine(server.url)

    generations = engine.generate(["p"], SamplingParams(n=1))

    assert len(server.requests) == 3
    assert sleeps == [2.0, 1.0]  # the server's Retry-After, then 0.5 * 2**1
    assert generations[0].texts == ("critique 0 of prompt 0 \\boxed{0}",)


def test_persistent_5xx_becomes_a_transient_error_after_the_last_retry(server):
    server.script = [(500, {})] * 4
    engine, sleeps = _engine(server.url)

    with pytest.raises(TransientEngineError, match=r"HTTP 500 .* \(gave up after 4 attempts\)"):
        engine.generate(["p"], SamplingParams())
    assert sleeps == [0.5, 1.0, 2.0]


def test_client_errors_are_not_retried(server):
    server.script = [(400, {})]
    engine, sleeps = _engine(server.url)

    with pytest.raises(EngineError, match="HTTP 400") as caught:
        engine.generate(["p"], SamplingParams())
    assert not isinstance(caught.value, TransientEngineError)
    assert len(server.requests) == 1
    assert sleeps == []


def test_an_unknown_model_is_a_permanent_error_naming_it(server):
    engine, sleeps = _engine(server.url, model="judge-7b")

    with pytest.raises(EngineError, match=r"HTTP 404 .*The model `judge-7b` does not exist"):
        engine.generate(["p"], SamplingParams())
    assert sleeps == []


def test_unreachable_server_is_transient(unused_port):
    engine, sleeps = _engine(f"http://127.0.0.1:{unused_port}/v1")

    with pytest.raises(TransientEngineError, match="could not reach"):
        engine.generate(["p"], SamplingParams())
    assert len(sleeps) == 3


def test_a_slow_server_times_out_as_transient(server):
    server.delay = 1.0
    engine, _ = _engine(server.url, timeout_seconds=0.2, max_retries=0)

    with pytest.raises(TransientEngineError, match="timed out"):
        engine.generate(["p"], SamplingParams())


def test_a_wrong_number_of_choices_is_an_engine_error(server, monkeypatch):
    engine, _ = _engine(server.url)
    monkeypatch.setattr(engine, "_post_with_retries", lambda path, payload: {"choices": [{"index": 0, "text": "x"}]})

    with pytest.raises(EngineError, match=r"Expected 4 choices \(2 prompts x n=2\), got 1"):
        engine.generate(["a", "b"], SamplingParams(n=2))


@pytest.fixture
def unused_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
