"""Any OpenAI-compatible chat-completions server: `vllm serve`, a hosted API, a gateway.

Endpoint params: ``timeout_s`` (120), ``max_retries`` (4), ``backoff_s`` (1.0, doubled per
attempt), ``extra_body`` (merged into every request, e.g. vLLM's ``top_k``). The API key is
read from ``os.environ[endpoint.api_key_env]``; the database holds only the variable's name.

The transport is urllib3's connection pool: against a fast server (a local `vllm serve`)
the client's own cost per call is what limits a worker, and urllib3 spends about half of
httpx's CPU per request (bench/http_client.py, docs/BENCHMARKS.md).
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import urllib3
from urllib3.exceptions import HTTPError, NewConnectionError
from urllib3.exceptions import TimeoutError as RequestTimeout

from . import BackendError, ChatRequest, ChatResult

# Only these may succeed when asked again; any other 4xx is the request's own fault.
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER_S = 30.0
MAX_ERROR_BODY = 2_000


class OpenAIBackend:
    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str = "",
        max_concurrency: int = 8,
        timeout_s: float = 120.0,
        max_retries: int = 4,
        backoff_s: float = 1.0,
        extra_body: dict | None = None,
    ) -> None:
        self.model = model
        self.max_concurrency = max(1, max_concurrency)
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.extra_body = extra_body or {}
        self.headers = {"Content-Type": "application/json"}
        if api_key:
            self.headers["Authorization"] = f"Bearer {api_key}"
        self._pool: ThreadPoolExecutor | None = None
        self.path = urlsplit(base_url).path.rstrip("/") + "/chat/completions"
        # One keep-alive connection per concurrent call; block=True makes a call wait for a
        # free connection instead of opening (and dropping) an extra one.
        self.connections = urllib3.connection_from_url(
            base_url,
            maxsize=self.max_concurrency,
            block=True,
            timeout=urllib3.Timeout(connect=timeout_s, read=timeout_s),
            retries=False,
        )

    def chat(self, requests: Sequence[ChatRequest]) -> list[ChatResult]:
        if len(requests) <= 1 or self.max_concurrency == 1:
            return [self._complete(request) for request in requests]
        # One pool for the backend's life (a worker keeps its backends): starting threads
        # for every batch cost more than the calls to a fast server.
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                max_workers=self.max_concurrency, thread_name_prefix="openai-backend"
            )
        return list(self._pool.map(self._complete, requests))

    def _body(self, request: ChatRequest) -> dict:
        body = {
            "model": self.model,
            "messages": request.messages,
            "temperature": request.temperature,
            "top_p": request.top_p,
            "max_tokens": request.max_tokens,
            **self.extra_body,
        }
        if request.seed is not None:
            body["seed"] = request.seed
        if request.stop:
            body["stop"] = list(request.stop)
        if request.json_schema is not None:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": request.schema_name,
                    "schema": request.json_schema,
                    "strict": True,
                },
            }
        return body

    def _complete(self, request: ChatRequest) -> ChatResult:
        body = json.dumps(self._body(request), ensure_ascii=False).encode()
        started = time.monotonic()
        attempt = 0
        while True:
            delay = None
            try:
                response = self.connections.urlopen(
                    "POST", self.path, body=body, headers=self.headers, retries=False
                )
            except HTTPError as error:
                # A timeout, or a connection refused (the server may be restarting), reset or
                # dropped mid-answer. urllib3 derives "refused" from its connect timeout.
                timed_out = isinstance(error, RequestTimeout) and not isinstance(
                    error, NewConnectionError
                )
                kind = "timeout" if timed_out else "transport error"
                failure = f"{kind} after {attempt + 1} attempt(s): {error!r}"
                delay = self._delay(attempt, None)
            else:
                if response.status in RETRY_STATUS:
                    failure = f"HTTP {response.status}: {_text(response)[:MAX_ERROR_BODY]}"
                    delay = self._delay(attempt, response.headers.get("retry-after"))
                else:
                    return self._result(response, started)
            if attempt >= self.max_retries:
                return ChatResult(
                    text="", error=failure, transient=True, latency_ms=_ms_since(started)
                )
            time.sleep(delay)
            attempt += 1

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            try:
                return min(float(retry_after), MAX_RETRY_AFTER_S)
            except ValueError:
                pass
        # Full jitter: many workers hitting one server must not retry in lockstep.
        return random.uniform(0, self.backoff_s * (2**attempt))

    def _result(self, response: urllib3.BaseHTTPResponse, started: float) -> ChatResult:
        latency_ms = _ms_since(started)
        if response.status != 200:
            return ChatResult(
                text="",
                error=f"HTTP {response.status}: {_text(response)[:MAX_ERROR_BODY]}",
                latency_ms=latency_ms,
            )
        try:
            payload = json.loads(response.data)
            choice = payload["choices"][0]
            text = choice["message"]["content"]
            if not isinstance(text, str):
                raise TypeError(f"content is {type(text).__name__}, not a string")
        except (ValueError, KeyError, IndexError, TypeError) as error:
            return ChatResult(
                text=_text(response)[:MAX_ERROR_BODY],
                error=f"malformed response body: {error!r}",
                latency_ms=latency_ms,
            )
        usage = payload.get("usage") or {}
        return ChatResult(
            text=text,
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            finish_reason=str(choice.get("finish_reason") or ""),
            latency_ms=latency_ms,
        )


def _text(response: urllib3.BaseHTTPResponse) -> str:
    return response.data.decode("utf-8", errors="replace")


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def build(endpoint) -> OpenAIBackend:
    if not endpoint.base_url:
        raise BackendError(f"Endpoint {endpoint.name!r} has no base_url.")
    api_key = ""
    if endpoint.api_key_env:
        try:
            api_key = os.environ[endpoint.api_key_env]
        except KeyError:
            raise BackendError(
                f"Endpoint {endpoint.name!r} reads its API key from ${endpoint.api_key_env}, "
                "which is not set in this process."
            ) from None
    params = endpoint.params or {}
    return OpenAIBackend(
        base_url=endpoint.base_url,
        model=endpoint.model,
        api_key=api_key,
        max_concurrency=endpoint.max_concurrency,
        timeout_s=float(params.get("timeout_s", 120.0)),
        max_retries=int(params.get("max_retries", 4)),
        backoff_s=float(params.get("backoff_s", 1.0)),
        extra_body=params.get("extra_body") or {},
    )
