"""vLLM's offline engine: the model loaded once per process, a whole batch in one call.

JSON through ``SamplingParams(structured_outputs=StructuredOutputsParams(json=schema))``
(vLLM ≥ 0.12; the ``guided_*`` names were removed). Endpoint params: ``tensor_parallel_size``
(1), ``max_model_len``, ``gpu_memory_utilization``, ``dtype``, ``enforce_eager`` — passed to
``vllm.LLM`` as they are.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from . import BackendError, ChatRequest, ChatResult

ENGINE_PARAMS = (
    "tensor_parallel_size",
    "max_model_len",
    "gpu_memory_utilization",
    "dtype",
    "enforce_eager",
    "seed",
    "trust_remote_code",
)


class VLLMBackend:
    def __init__(self, *, model: str, engine_params: dict) -> None:
        try:
            import vllm
            from vllm.sampling_params import StructuredOutputsParams
        except ImportError as error:
            raise BackendError(
                f"The vllm backend needs vllm (requirements-gpu.txt): {error}"
            ) from error
        self.vllm = vllm
        self.StructuredOutputsParams = StructuredOutputsParams
        self.llm = vllm.LLM(model=model, **engine_params)
        self._lock = threading.Lock()

    def _sampling(self, request: ChatRequest):
        options = {
            "temperature": request.temperature,
            "top_p": request.top_p,
            "max_tokens": request.max_tokens,
            "seed": request.seed,
        }
        if request.stop:
            options["stop"] = list(request.stop)
        if request.json_schema is not None:
            options["structured_outputs"] = self.StructuredOutputsParams(json=request.json_schema)
        return self.vllm.SamplingParams(**options)

    def chat(self, requests: Sequence[ChatRequest]) -> list[ChatResult]:
        if not requests:
            return []
        started = time.monotonic()
        with self._lock:
            outputs = self.llm.chat(
                [request.messages for request in requests],
                sampling_params=[self._sampling(request) for request in requests],
                use_tqdm=False,
            )
        # One engine call serves the whole batch: each request shares its latency.
        latency_ms = int((time.monotonic() - started) * 1000)
        results = []
        for output in outputs:
            completion = output.outputs[0]
            results.append(
                ChatResult(
                    text=completion.text,
                    prompt_tokens=len(output.prompt_token_ids or []),
                    completion_tokens=len(completion.token_ids or []),
                    finish_reason=str(completion.finish_reason or ""),
                    latency_ms=latency_ms,
                )
            )
        return results


def build(endpoint) -> VLLMBackend:
    params = endpoint.params or {}
    engine_params = {name: params[name] for name in ENGINE_PARAMS if name in params}
    return VLLMBackend(model=endpoint.model, engine_params=engine_params)
