"""The transformers backend on a CUDA GPU in bf16, batched, beside the same run on CPU.

    python bench/gpu_backend.py [--batch 16] [--new-tokens 64] [--layers 4] [--hidden 256]

Needs only torch and transformers (no Django, no downloads): a small random Llama and a
word-level tokenizer with a chat template are built in a temporary folder, then the real
synth.backends.transformers backend generates one batch on each device. Prints tokens/s
per device as JSON. Without CUDA it reports the CPU run and says so.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def build_model(path: Path, *, layers: int, hidden: int) -> str:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    words = [f"w{n}" for n in range(2000)] + [
        "दिवाली",
        "रोशनी",
        "का",
        "त्योहार",
        "है",
        "user",
        "assistant",
    ]
    tokenizer.train_from_iterator(
        [" ".join(words)],
        trainers.WordLevelTrainer(special_tokens=["<unk>", "<pad>", "<s>", "</s>"]),
    )
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
        hidden_size=hidden,
        intermediate_size=hidden * 4,
        num_hidden_layers=layers,
        num_attention_heads=max(1, hidden // 64),
        num_key_value_heads=max(1, hidden // 64),
        max_position_embeddings=4096,
        bos_token_id=fast.bos_token_id,
        # No EOS during the run: every row generates exactly --new-tokens tokens.
        eos_token_id=None,
        pad_token_id=fast.pad_token_id,
    )
    LlamaForCausalLM(config).save_pretrained(path)
    return str(path)


def run(model: str, *, device: str, dtype: str, batch: int, new_tokens: int) -> dict:
    from synth.backends import ChatRequest
    from synth.backends.transformers import TransformersBackend

    backend = TransformersBackend(model=model, device=device, dtype=dtype, batch_size=batch)
    requests = [
        ChatRequest(
            messages=[{"role": "user", "content": f"दिवाली रोशनी का त्योहार है w{n} " * 8}],
            temperature=1.0,
            top_p=0.95,
            max_tokens=new_tokens,
            seed=1,
        )
        for n in range(batch)
    ]
    backend.chat(requests[:1])  # warm-up: kernels, allocator
    if device == "cuda":
        backend.torch.cuda.synchronize()
    started = time.perf_counter()
    results = backend.chat(requests)
    if device == "cuda":
        backend.torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    tokens = sum(result.completion_tokens for result in results)
    return {
        "device": device,
        "dtype": dtype,
        "batch": batch,
        "completion_tokens": tokens,
        "seconds": round(seconds, 3),
        "tokens_per_s": round(tokens / seconds, 1),
        "errors": sum(1 for result in results if not result.ok),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--hidden", type=int, default=256)
    args = parser.parse_args()
    import torch

    with tempfile.TemporaryDirectory() as folder:
        model = build_model(Path(folder), layers=args.layers, hidden=args.hidden)
        report = {
            "torch": torch.__version__,
            "cuda": torch.cuda.is_available(),
            "runs": [
                run(
                    model,
                    device="cpu",
                    dtype="float32",
                    batch=args.batch,
                    new_tokens=args.new_tokens,
                )
            ],
        }
        if torch.cuda.is_available():
            report["gpu"] = torch.cuda.get_device_name(0)
            report["runs"].append(
                run(
                    model,
                    device="cuda",
                    dtype="bfloat16",
                    batch=args.batch,
                    new_tokens=args.new_tokens,
                )
            )
        else:
            report["note"] = "no CUDA device: only the CPU run"
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
