"""The LLM backends through their real code paths: a local chat-completions server over
HTTP, and a tiny random Llama built on disk for the transformers backend (no downloads).

The server and the model builder are imported by the judging tests too."""

import importlib.util
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from synth.backends import ChatRequest, backend_cache_clear, backend_for
from synth.backends.openai import OpenAIBackend
from synth.models import ModelEndpoint


@dataclass
class Reply:
    """What the fake server answers: a chat completion with ``content``, or a raw ``body``."""

    content: str | None = None
    status: int = 200
    body: bytes | None = None
    delay: float = 0.0
    headers: dict = field(default_factory=dict)
    finish_reason: str = "stop"


class ChatServer:
    """An OpenAI-compatible /v1/chat/completions on 127.0.0.1 with a free port.

    ``reply(body, n)`` decides each answer from the request body and its 1-based number."""

    def __init__(self, reply=None) -> None:
        self.reply = reply or (lambda body, n: Reply(content='{"score": 1, "reason": "ok"}'))
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                with server._lock:
                    server.requests.append(
                        {"path": self.path, "body": body, "headers": dict(self.headers)}
                    )
                    number = len(server.requests)
                answer = server.reply(body, number)
                if answer.delay:
                    time.sleep(answer.delay)
                if answer.body is not None:
                    payload = answer.body
                else:
                    payload = json.dumps(
                        {
                            "id": f"chatcmpl-{number}",
                            "object": "chat.completion",
                            "model": body.get("model"),
                            "choices": [
                                {
                                    "index": 0,
                                    "message": {"role": "assistant", "content": answer.content},
                                    "finish_reason": answer.finish_reason,
                                }
                            ],
                            "usage": {
                                "prompt_tokens": sum(
                                    len(m["content"].split()) for m in body.get("messages", [])
                                ),
                                "completion_tokens": len((answer.content or "").split()),
                            },
                        }
                    ).encode()
                try:
                    self.send_response(answer.status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def chat_server():
    with ChatServer() as server:
        yield server


def build_tiny_model(path) -> str:
    """A random two-layer Llama and a word-level tokenizer with a chat template, on disk."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    specials = ["<unk>", "<pad>", "<s>", "</s>"]
    tokenizer = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    corpus = [
        "You are an expert judge of Hindi text .",
        'Answer only with JSON { "score" : 2 , "reason" : "fluent" }',
        "दिवाली पर एक छोटी कविता लिखिए ।",
        "user assistant system score reason fluency toxicity 0 1 2",
    ]
    tokenizer.train_from_iterator(corpus, trainers.WordLevelTrainer(special_tokens=specials))
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        unk_token="<unk>",
        pad_token="<pad>",
        bos_token="<s>",
        eos_token="</s>",
        chat_template=(
            "{% for m in messages %}<s> {{ m['role'] }} {{ m['content'] }} </s> {% endfor %}"
            "{% if add_generation_prompt %}<s> assistant {% endif %}"
        ),
    )
    fast.save_pretrained(path)
    config = LlamaConfig(
        vocab_size=len(fast),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=8192,
        bos_token_id=fast.bos_token_id,
        eos_token_id=fast.eos_token_id,
        pad_token_id=fast.pad_token_id,
    )
    LlamaForCausalLM(config).save_pretrained(path)
    return str(path)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> str:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-llama"))


def _endpoint(**fields) -> ModelEndpoint:
    # An unsaved row: backend_for reads only its fields.
    return ModelEndpoint(name="t", **fields)


SCHEMA = {
    "type": "object",
    "properties": {"score": {"type": "integer"}},
    "required": ["score"],
}


def test_openai_backend_sends_the_schema_and_returns_text_tokens_and_finish_reason(
    chat_server, monkeypatch
):
    monkeypatch.setenv("PARAKH_TEST_KEY", "sk-test-123")
    backend = OpenAIBackend(base_url=chat_server.base_url, model="judge-x", api_key="sk-test-123")
    [result] = backend.chat(
        [
            ChatRequest(
                messages=[{"role": "user", "content": "rate this please"}],
                json_schema=SCHEMA,
                schema_name="fluency",
            )
        ]
    )
    assert result.ok and result.text == '{"score": 1, "reason": "ok"}'
    assert result.prompt_tokens == 3 and result.completion_tokens == 4
    assert result.finish_reason == "stop"
    [sent] = chat_server.requests
    assert sent["path"] == "/v1/chat/completions"
    assert sent["headers"]["Authorization"] == "Bearer sk-test-123"
    assert sent["body"]["model"] == "judge-x"
    assert sent["body"]["temperature"] == 0.0
    assert sent["body"]["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "fluency", "schema": SCHEMA, "strict": True},
    }


def test_backend_for_reads_the_key_from_the_named_variable_and_caches_one_instance(
    chat_server, monkeypatch
):
    backend_cache_clear()
    monkeypatch.setenv("PARAKH_TEST_KEY", "sk-from-env")
    endpoint = _endpoint(
        backend="openai", model="m", base_url=chat_server.base_url, api_key_env="PARAKH_TEST_KEY"
    )
    backend = backend_for(endpoint)
    assert backend_for(endpoint) is backend
    backend.chat([ChatRequest(messages=[{"role": "user", "content": "hi"}])])
    assert chat_server.requests[0]["headers"]["Authorization"] == "Bearer sk-from-env"
    changed = _endpoint(
        backend="openai",
        model="other",
        base_url=chat_server.base_url,
        api_key_env="PARAKH_TEST_KEY",
    )
    assert backend_for(changed) is not backend
    backend_cache_clear()


def test_a_missing_api_key_variable_is_named_in_the_error(monkeypatch):
    from synth.backends import BackendError

    monkeypatch.delenv("PARAKH_MISSING_KEY", raising=False)
    endpoint = _endpoint(
        backend="openai",
        model="m",
        base_url="http://127.0.0.1:9/v1",
        api_key_env="PARAKH_MISSING_KEY",
    )
    with pytest.raises(BackendError, match="PARAKH_MISSING_KEY"):
        backend_for(endpoint)


def test_a_429_is_retried_after_retry_after_and_then_succeeds(chat_server):
    chat_server.reply = lambda body, n: (
        Reply(status=429, body=b'{"error": "slow down"}', headers={"retry-after": "0"})
        if n == 1
        else Reply(content="fine")
    )
    backend = OpenAIBackend(base_url=chat_server.base_url, model="m", backoff_s=0.01)
    [result] = backend.chat([ChatRequest(messages=[{"role": "user", "content": "x"}])])
    assert result.ok and result.text == "fine"
    assert len(chat_server.requests) == 2


def test_a_timeout_is_retried_and_a_lasting_5xx_ends_as_a_transient_error(chat_server):
    chat_server.reply = lambda body, n: (
        Reply(content="late", delay=1.0) if n == 1 else Reply(content="on time")
    )
    backend = OpenAIBackend(base_url=chat_server.base_url, model="m", timeout_s=0.3, backoff_s=0.01)
    [result] = backend.chat([ChatRequest(messages=[{"role": "user", "content": "x"}])])
    assert result.ok and result.text == "on time"

    chat_server.requests.clear()
    chat_server.reply = lambda body, n: Reply(status=503, body=b"overloaded")
    backend = OpenAIBackend(base_url=chat_server.base_url, model="m", max_retries=2, backoff_s=0.01)
    [result] = backend.chat([ChatRequest(messages=[{"role": "user", "content": "x"}])])
    assert not result.ok and result.transient and "503" in result.error
    assert len(chat_server.requests) == 3


def test_a_refused_connection_is_retried_and_ends_as_a_transient_error():
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = OpenAIBackend(
        base_url=f"http://127.0.0.1:{port}/v1", model="m", max_retries=1, backoff_s=0.01
    )
    [result] = backend.chat([ChatRequest(messages=[{"role": "user", "content": "x"}])])
    assert not result.ok and result.transient
    assert "transport error after 2 attempt(s)" in result.error


def test_a_4xx_and_a_malformed_body_are_not_retried_and_not_transient(chat_server):
    chat_server.reply = lambda body, n: Reply(status=400, body=b'{"error": "bad schema"}')
    backend = OpenAIBackend(base_url=chat_server.base_url, model="m", backoff_s=0.01)
    [result] = backend.chat([ChatRequest(messages=[{"role": "user", "content": "x"}])])
    assert not result.ok and not result.transient and "bad schema" in result.error
    assert len(chat_server.requests) == 1

    chat_server.reply = lambda body, n: Reply(body=b"<html>proxy error page</html>")
    [result] = backend.chat([ChatRequest(messages=[{"role": "user", "content": "x"}])])
    assert not result.ok and not result.transient
    assert "malformed" in result.error and "proxy error page" in result.text


def test_a_batch_runs_concurrently_up_to_max_concurrency_and_keeps_its_order(chat_server):
    active = {"now": 0, "peak": 0}
    lock = threading.Lock()

    def reply(body, n):
        with lock:
            active["now"] += 1
            active["peak"] = max(active["peak"], active["now"])
        time.sleep(0.1)
        with lock:
            active["now"] -= 1
        return Reply(content=body["messages"][0]["content"].upper())

    chat_server.reply = reply
    backend = OpenAIBackend(base_url=chat_server.base_url, model="m", max_concurrency=3)
    words = [f"word{i}" for i in range(9)]
    results = backend.chat([ChatRequest(messages=[{"role": "user", "content": w}]) for w in words])
    assert [r.text for r in results] == [w.upper() for w in words]
    assert 1 < active["peak"] <= 3


def test_the_transformers_backend_generates_a_batch_with_left_padding(tiny_model):
    backend_cache_clear()
    endpoint = _endpoint(backend="transformers", model=tiny_model, params={"device": "cpu"})
    backend = backend_for(endpoint)
    assert backend.tokenizer.padding_side == "left"
    short = [{"role": "user", "content": "score"}]
    long = [{"role": "system", "content": "You are an expert judge of Hindi text ."}, *short]
    results = backend.chat(
        [ChatRequest(messages=short, max_tokens=5), ChatRequest(messages=long, max_tokens=5)]
    )
    assert len(results) == 2
    assert results[0].prompt_tokens < results[1].prompt_tokens
    for result in results:
        assert result.ok and isinstance(result.text, str)
        assert 0 <= result.completion_tokens <= 5
        assert result.finish_reason in {"stop", "length"}
    # Greedy decoding of the same conversation is the same alone and in a padded batch.
    [alone] = backend.chat([ChatRequest(messages=short, max_tokens=5)])
    assert alone.text == results[0].text
    backend_cache_clear()


VLLM_MISSING = importlib.util.find_spec("vllm") is None


@pytest.mark.skipif(VLLM_MISSING, reason="vllm is not installed (requirements-gpu.txt, GPU hosts)")
def test_the_vllm_backend_answers_a_batch_with_structured_json(tiny_model):
    backend_cache_clear()
    endpoint = _endpoint(backend="vllm", model=tiny_model, params={"enforce_eager": True})
    results = backend_for(endpoint).chat(
        [
            ChatRequest(
                messages=[{"role": "user", "content": "score"}], json_schema=SCHEMA, max_tokens=20
            )
        ]
    )
    assert results[0].finish_reason
    backend_cache_clear()
