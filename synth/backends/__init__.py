"""LLM backends: one protocol for generation and judging, three ways to reach a model.

A backend takes a batch of chat requests and answers each with its text, token counts,
finish reason and latency. ``backend_for(endpoint)`` builds one backend per endpoint
configuration and process, lazily: a GPU worker loads its model on the first task it runs
and keeps it for every later one (DESIGN.md, "Runtime").
"""

from __future__ import annotations

import importlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from synth.models import ModelEndpoint


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """One conversation to complete. ``json_schema`` asks for structured output."""

    messages: list[dict]
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 512
    seed: int | None = None
    stop: tuple[str, ...] = ()
    json_schema: dict | None = None
    # A name for the schema where the server wants one (OpenAI's json_schema.name).
    schema_name: str = "answer"


@dataclass(slots=True)
class ChatResult:
    """The answer to one request. ``error`` is set when no usable reply came back; then
    ``transient`` says whether asking again later may succeed (a timeout, a 429, a 5xx)."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str = ""
    latency_ms: int = 0
    error: str = ""
    transient: bool = False
    raw: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.error


class Backend(Protocol):
    def chat(self, requests: Sequence[ChatRequest]) -> list[ChatResult]:
        """Answer every request, in order; never raise for one request's failure."""
        ...


class BackendError(Exception):
    """The backend cannot be used at all (a missing package, an unknown backend name)."""


class BackendUnavailable(BackendError):
    """A transient failure that outlasted the backend's own retries; retry the task later."""


_BACKEND_MODULES = {
    "openai": "synth.backends.openai",
    "transformers": "synth.backends.transformers",
    "vllm": "synth.backends.vllm",
}
_cache: dict[tuple, Backend] = {}
_lock = threading.Lock()


def _cache_key(endpoint: ModelEndpoint) -> tuple:
    # Keyed by configuration, not by row id: an edited endpoint gets a fresh backend.
    return (
        endpoint.backend,
        endpoint.model,
        endpoint.base_url,
        endpoint.api_key_env,
        endpoint.max_concurrency,
        json.dumps(endpoint.params or {}, sort_keys=True),
    )


def backend_for(endpoint: ModelEndpoint) -> Backend:
    """The process's backend for this endpoint, built (and its model loaded) on first use."""
    key = _cache_key(endpoint)
    backend = _cache.get(key)
    if backend is not None:
        return backend
    with _lock:
        backend = _cache.get(key)
        if backend is None:
            module_name = _BACKEND_MODULES.get(endpoint.backend)
            if module_name is None:
                raise BackendError(f"Unknown backend {endpoint.backend!r}.")
            module = importlib.import_module(module_name)
            backend = module.build(endpoint)
            _cache[key] = backend
    return backend


def backend_install(endpoint: ModelEndpoint, backend: Backend) -> None:
    """Make ``backend`` this process's backend for the endpoint: for an engine built
    in-process (a notebook, the benchmark's instant backend) rather than from the row."""
    with _lock:
        _cache[_cache_key(endpoint)] = backend


def backend_cache_clear() -> None:
    """Drop every cached backend (after an endpoint's model files changed on disk)."""
    with _lock:
        _cache.clear()


__all__ = [
    "Backend",
    "BackendError",
    "BackendUnavailable",
    "ChatRequest",
    "ChatResult",
    "backend_cache_clear",
    "backend_for",
    "backend_install",
]
