"""Hugging Face transformers: the CPU fallback and the small-GPU path.

Batched generation with left padding (so every row's new tokens start at the same column)
and the tokenizer's own chat template. There is no constrained decoding here: a JSON schema
is not enforced, so callers must validate what comes back. Endpoint params: ``device``
("cuda" when available, else "cpu"), ``dtype`` ("auto"), ``batch_size`` (8).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from . import BackendError, ChatRequest, ChatResult


class TransformersBackend:
    def __init__(
        self, *, model: str, device: str | None = None, dtype: str = "auto", batch_size: int = 8
    ) -> None:
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as error:
            raise BackendError(
                f"The transformers backend needs torch and transformers: {error}"
            ) from error
        self.torch = torch
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.batch_size = max(1, batch_size)
        self.tokenizer = AutoTokenizer.from_pretrained(model)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = AutoModelForCausalLM.from_pretrained(model, dtype=dtype).to(self.device)
        self.model.eval()
        # One generate() at a time: a threaded worker pool shares this one model.
        self._lock = threading.Lock()

    def chat(self, requests: Sequence[ChatRequest]) -> list[ChatResult]:
        results: list[ChatResult | None] = [None] * len(requests)
        # Requests with the same sampling parameters share one generate() call.
        groups: dict[tuple, list[int]] = {}
        for index, request in enumerate(requests):
            key = (request.temperature, request.top_p, request.max_tokens, request.seed)
            groups.setdefault(key, []).append(index)
        for indices in groups.values():
            for start in range(0, len(indices), self.batch_size):
                part = indices[start : start + self.batch_size]
                for index, result in zip(
                    part, self._generate([requests[i] for i in part]), strict=True
                ):
                    results[index] = result
        return results  # type: ignore[return-value]

    def _generate(self, requests: list[ChatRequest]) -> list[ChatResult]:
        torch = self.torch
        first = requests[0]
        texts = [
            self.tokenizer.apply_chat_template(
                request.messages, tokenize=False, add_generation_prompt=True
            )
            for request in requests
        ]
        inputs = self.tokenizer(
            texts, return_tensors="pt", padding=True, add_special_tokens=False
        ).to(self.device)
        sampling = first.temperature > 0
        options = {
            "max_new_tokens": first.max_tokens,
            "do_sample": sampling,
            "pad_token_id": self.tokenizer.pad_token_id,
        }
        if sampling:
            options.update(temperature=first.temperature, top_p=first.top_p)
        started = time.monotonic()
        with self._lock, torch.inference_mode():
            if first.seed is not None:
                torch.manual_seed(first.seed)
            output = self.model.generate(**inputs, **options)
        latency_ms = int((time.monotonic() - started) * 1000)
        prompt_width = inputs["input_ids"].shape[1]
        eos_ids = _eos_ids(self.tokenizer, self.model)
        results = []
        for row, mask in zip(output, inputs["attention_mask"], strict=True):
            new_tokens = row[prompt_width:].tolist()
            finish_reason = "length"
            for position, token in enumerate(new_tokens):
                if token in eos_ids:
                    new_tokens = new_tokens[:position]
                    finish_reason = "stop"
                    break
            results.append(
                ChatResult(
                    text=self.tokenizer.decode(new_tokens, skip_special_tokens=True),
                    prompt_tokens=int(mask.sum()),
                    completion_tokens=len(new_tokens),
                    finish_reason=finish_reason,
                    latency_ms=latency_ms,
                )
            )
        return results


def _eos_ids(tokenizer, model) -> set[int]:
    ids = model.generation_config.eos_token_id
    ids = set(ids if isinstance(ids, list) else [ids] if ids is not None else [])
    if tokenizer.eos_token_id is not None:
        ids.add(tokenizer.eos_token_id)
    return ids


def build(endpoint) -> TransformersBackend:
    params = endpoint.params or {}
    return TransformersBackend(
        model=endpoint.model,
        device=params.get("device"),
        dtype=params.get("dtype", "auto"),
        batch_size=int(params.get("batch_size", 8)),
    )
