"""The OpenAI-compatible engine against a local recorded-protocol server (http.server on 127.0.0.1).

No real `vllm serve` can run on this CPU-only machine, so the server below speaks the documented protocol of
vLLM's OpenAI-compatible server:
- `/v1/completions`: a list of prompts with `n` samples each, len(prompts) * n choices whose `index` i belongs to
  prompt i // n (returned out of order on purpose), and `usage` totals;
- `/v1/chat/completions`: one conversation, rendered with the model's chat template (the tiny tokenizer with the
  real Qwen2.5 template) under vLLM's extra parameters `add_generation_prompt` (default true) and
  `continue_final_message` (default false), `n` choices of `message.content`;
- `/tokenize` (at the server root): `count` and `max_model_len` of a prompt or a conversation;
- vLLM's length rule: a prompt longer than `max_model_len`, or prompt + `max_tokens` above it, is a 400.
It can answer a scripted sequence of statuses (429, 503, 400) before succeeding, and records what it rendered.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from transformers import AutoTokenizer

from scoring.engines.base import (
    ChatMessage,
    ChatPrompt,
    EngineError,
    Generation,
    SamplingParams,
    TransientEngineError,
)
from scoring.engines.config import EngineSettings
from scoring.engines.openai_engine import OpenAIEngine
from scoring.methods import judge, mc
from scoring.methods.base import SolutionTask
from tests.scoring.chat_fixtures import chatml_judge, chatml_mc, processbench_records, run_eval_user_message

GENERATION_PATHS = ("/v1/completions", "/v1/chat/completions")


class RecordedServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, tokenizer):
        super().__init__(("127.0.0.1", 0), RecordedHandler)
        self.tokenizer = tokenizer
        self.lock = threading.Lock()
        self.requests: list[dict] = []  # generation requests, in arrival order
        self.paths: list[str] = []
        self.tokenize_requests: list[dict] = []
        self.rendered: list[str] = []  # chat prompts as the server's template rendered them
        self.headers_seen: list[dict] = []
        self.script: list[tuple[int, dict]] = []  # (status, headers) answered before the real answer
        self.delay = 0.0
        self.max_model_len = 32768
        self.tokenize_enabled = True
        self.reject_prompts: set[str] = set()  # completions prompts answered with a 400

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def render(self, body: dict) -> str:
        return self.tokenizer.apply_chat_template(
            body["messages"],
            tokenize=False,
            add_generation_prompt=body.get("add_generation_prompt", True),
            continue_final_message=body.get("continue_final_message", False),
        )

    def count(self, body: dict) -> int:
        if "messages" in body:
            return len(self.tokenizer.encode(self.render(body), add_special_tokens=False))
        prompts = body["prompt"] if isinstance(body["prompt"], list) else [body["prompt"]]
        return max(len(self.tokenizer.encode(prompt)) for prompt in prompts)


def vllm_length_error(count: int, max_tokens: int, limit: int) -> str | None:
    """Return vLLM's 400 message for a request that does not fit the context, else None."""
    if count > limit:
        return f"The decoder prompt (length {count}) is longer than the maximum model length of {limit}."
    if count + max_tokens > limit:
        return (
            f"'max_tokens' or 'max_completion_tokens' is too large: {max_tokens}. This model's maximum context length "
            f"is {limit} tokens and your request has {count} input tokens ({max_tokens} > {limit} - {count})."
        )
    return None


class RecordedHandler(BaseHTTPRequestHandler):
    server: RecordedServer

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
        server = self.server
        if self.path == "/tokenize":
            return self._tokenize(body)
        with server.lock:
            server.requests.append(body)
            server.paths.append(self.path)
            server.headers_seen.append(dict(self.headers))
            scripted = server.script.pop(0) if server.script and self.path in GENERATION_PATHS else None
        if self.path not in GENERATION_PATHS:
            return self._send(404, {"error": {"message": f"no route {self.path}"}})
        if server.delay:
            threading.Event().wait(server.delay)
        if scripted:
            status, headers = scripted
            return self._send(status, {"error": {"message": f"scripted {status}"}}, headers)
        if body["model"] != "judge-72b":
            return self._send(404, {"error": {"message": f"The model `{body['model']}` does not exist."}})
        if any(prompt in server.reject_prompts for prompt in body.get("prompt", [])):
            return self._send(400, {"error": {"message": "a prompt was rejected", "type": "BadRequestError"}})
        error = vllm_length_error(server.count(body), body["max_tokens"], server.max_model_len)
        if error:
            return self._send(400, {"error": {"message": error, "type": "BadRequestError", "code": 400}})
        return self._chat(body) if self.path == "/v1/chat/completions" else self._complete(body)

    def _tokenize(self, body: dict) -> None:
        with self.server.lock:
            self.server.tokenize_requests.append(body)
        if not self.server.tokenize_enabled:
            return self._send(404, {"detail": "Not Found"})
        count = self.server.count(body)
        self._send(200, {"count": count, "max_model_len": self.server.max_model_len, "tokens": [0] * count})

    def _chat(self, body: dict) -> None:
        rendered = self.server.render(body)
        with self.server.lock:
            self.server.rendered.append(rendered)
        n = body["n"]
        choices = [
            {
                "index": k,
                "message": {"role": "assistant", "content": f"critique {k} \\boxed{{0}}"},
                "finish_reason": "stop",
            }
            for k in range(n)
        ]
        choices.reverse()
        prompt_tokens = len(self.server.tokenizer.encode(rendered, add_special_tokens=False))
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": 5 * n, "total_tokens": prompt_tokens + 5 * n}
        self._send(200, {"id": "chatcmpl-1", "object": "chat.completion", "choices": choices, "usage": usage})

    def _complete(self, body: dict) -> None:
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
def server(tiny_models):
    server = RecordedServer(AutoTokenizer.from_pretrained(tiny_models.causal_lm))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _engine(url: str, **overrides) -> tuple[OpenAIEngine, list[float]]:
    sleeps: list[float] = []
    values = {
        "model": "judge-72b",
        "api_key": "sk-test",
        "max_retries": 3,
        "retry_backoff_seconds": 0.5,
        "api": "completions",
    }
    config = EngineSettings(kind="openai", base_url=url, **{**values, **overrides})
    return OpenAIEngine(config, sleep=sleeps.append), sleeps


def record_task(record, solution_id=1) -> SolutionTask:
    return SolutionTask(solution_id, record["problem"], tuple(record["steps"]), "x")


# Completions mode -----------------------------------------------------------------------------------


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
    assert sorted(server.tokenize_requests, key=lambda body: body["prompt"]) == [
        {"model": "judge-72b", "prompt": prompt} for prompt in ["first prompt", "second", "third one"]
    ]
    assert server.headers_seen[0]["Authorization"] == "Bearer sk-test"
    assert sum(g.prompt_tokens for g in generations) == 30
    assert sum(g.generated_tokens for g in generations) == 42
    assert generations[0].prompt_tokens > generations[1].prompt_tokens  # split by prompt length
    assert [g.finish_reasons for g in generations] == [("stop", "stop")] * 3


def test_prompts_are_split_into_requests_of_bounded_size(server):
    engine, _ = _engine(server.url, prompts_per_request=2)

    generations = engine.generate(["a", "b", "c"], SamplingParams(n=1))

    assert [request["prompt"] for request in server.requests] == [["a", "b"], ["c"]]
    assert [g.texts[0] for g in generations] == [
        "critique 0 of prompt 0 \\boxed{0}",
        "critique 0 of prompt 1 \\boxed{1}",
        "critique 0 of prompt 0 \\boxed{0}",
    ]


def test_a_rejected_prompt_in_a_completions_request_is_isolated_by_splitting(server):
    server.tokenize_enabled = False
    server.reject_prompts = {"bad"}
    engine, sleeps = _engine(server.url)

    generations = engine.generate(["a", "bad", "c"], SamplingParams(n=1, max_tokens=16))

    assert [request["prompt"] for request in server.requests] == [
        ["a", "bad", "c"],
        ["a"],
        ["bad", "c"],
        ["bad"],
        ["c"],
    ]
    assert [g.error for g in generations] == ["", "the server rejected the prompt: HTTP 400: a prompt was rejected", ""]
    assert generations[0].texts == ("critique 0 of prompt 0 \\boxed{0}",) and sleeps == []


# Chat mode ------------------------------------------------------------------------------------------


def test_judge_prompts_go_to_chat_completions_as_one_user_message(server):
    engine, _ = _engine(server.url, api="chat")
    records = processbench_records()
    template = judge.JudgeConfig().load_template()

    generations = engine.generate(
        [judge.build_prompt(record_task(record), template) for record in records],
        SamplingParams(n=2, max_tokens=512, temperature=0.7, top_p=0.8, seed=42, top_k=20),
    )

    by_message = {request["messages"][0]["content"]: request for request in server.requests}
    for record in records:
        message = run_eval_user_message(record)
        assert by_message[message] == {
            "model": "judge-72b",
            "messages": [{"role": "user", "content": message}],
            "n": 2,
            "max_tokens": 512,
            "temperature": 0.7,
            "top_p": 0.8,
            "seed": 42,
            "top_k": 20,
        }  # no rendering flags: the server's defaults (a generation prompt) apply, as any chat endpoint
    assert set(server.paths) == {"/v1/chat/completions"} and len(server.requests) == 3
    assert sorted(server.rendered) == sorted(chatml_judge(run_eval_user_message(record)) for record in records)
    assert [g.texts for g in generations] == [("critique 0 \\boxed{0}", "critique 1 \\boxed{0}")] * 3
    assert generations[0].prompt_tokens == len(
        server.tokenizer.encode(server.render(by_message[run_eval_user_message(records[0])]), add_special_tokens=False)
    )
    assert [g.generated_tokens for g in generations] == [10, 10, 10]


def test_mc_prefixes_are_continued_with_vllms_chat_parameters(server):
    engine, _ = _engine(server.url, api="chat")
    record = processbench_records()[1]

    engine.generate(
        [mc.build_prompt(record_task(record), 2)], SamplingParams(n=4, max_tokens=256, stop=mc.DEFAULT_MC_STOP)
    )

    ((request,),) = [server.requests]
    assert request["add_generation_prompt"] is False and request["continue_final_message"] is True
    assert request["stop"] == ["<|im_end|>", "<|endoftext|>", "<|im_start|>"]
    assert [message["role"] for message in request["messages"]] == ["system", "user", "assistant"]
    assert server.rendered == [chatml_mc(record["problem"], record["steps"][:2])]
    assert server.tokenize_requests[0] == {
        "model": "judge-72b",
        "messages": request["messages"],
        "add_generation_prompt": False,
        "continue_final_message": True,
    }


def test_the_budget_is_capped_at_the_context_the_prompt_leaves(server):
    server.max_model_len = 300
    engine, _ = _engine(server.url, api="chat")
    prompt = ChatPrompt((ChatMessage("user", "What is 1 + 1?"),))

    (generation,) = engine.generate([prompt], SamplingParams(n=1, max_tokens=8192))

    count = server.tokenize_requests and server.count(server.requests[0])
    assert server.requests[0]["max_tokens"] == 300 - count == generation.max_tokens
    assert generation.error == ""


def test_a_batch_of_16_with_one_oversized_solution_fails_that_one_alone(server):
    server.max_model_len = 500
    engine, _ = _engine(server.url, api="chat", concurrency=4)
    tasks = [SolutionTask(i, f"What is {i} + 1?", (f"{i} + 1 = {i + 1}.", "So it is."), "1") for i in range(16)]
    tasks[11] = SolutionTask(11, "What is " + " + ".join(["1234567"] * 150) + "?", ("It is big.",), "1")
    config = judge.JudgeConfig()

    results = judge.judge(tasks, engine, config)

    oversized = server.count(
        {"messages": [{"role": "user", "content": judge.critique_text(tasks[11], config.load_template())}]}
    )
    assert [r.status for r in results].count("succeeded") == 15
    assert (results[11].status, results[11].error) == (
        "failed",
        f"prompt is {oversized} tokens; the model's context is 500 tokens",
    )
    assert len(server.requests) == 15  # the oversized prompt is never sent
    assert all(request["max_tokens"] == 500 - server.count(request) for request in server.requests)


def test_without_tokenize_the_servers_own_400_fails_the_oversized_prompt_alone(server):
    server.tokenize_enabled = False
    server.max_model_len = 500
    engine, sleeps = _engine(server.url, api="chat")
    short = ChatPrompt((ChatMessage("user", "What is 1 + 1?"),))
    long = ChatPrompt((ChatMessage("user", "What is " + " + ".join(["1234567"] * 150) + "?"),))

    generations = engine.generate([short, long, short], SamplingParams(n=1, max_tokens=64))

    count = server.count({"messages": long.as_dicts()})
    assert [g.error for g in generations] == [
        "",
        "the server rejected the prompt: HTTP 400: The decoder prompt (length "
        f"{count}) is longer than the maximum model length of 500.",
        "",
    ]
    assert len(server.tokenize_requests) == 1  # one 404, then no more measuring
    assert sleeps == []


def test_prompt_kinds_must_match_the_configured_api(server):
    chat_engine, _ = _engine(server.url, api="chat")
    completions_engine, _ = _engine(server.url, api="completions")

    with pytest.raises(EngineError, match=r"in chat mode cannot send plain-text prompts"):
        chat_engine.generate(["plain"], SamplingParams())
    with pytest.raises(EngineError, match=r"in completions mode cannot send chat prompts"):
        completions_engine.generate([ChatPrompt((ChatMessage("user", "q"),))], SamplingParams())
    assert server.requests == []


# Retries and errors ---------------------------------------------------------------------------------


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


def test_a_400_fails_the_prompt_without_retrying(server):
    server.script = [(400, {})]
    engine, sleeps = _engine(server.url)

    (generation,) = engine.generate(["p"], SamplingParams())

    assert generation == Generation.failed("the server rejected the prompt: HTTP 400: scripted 400")
    assert len(server.requests) == 1 and sleeps == []


def test_other_client_errors_fail_the_batch_without_retrying(server):
    server.script = [(401, {})]
    engine, sleeps = _engine(server.url)

    with pytest.raises(EngineError, match="HTTP 401") as caught:
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
