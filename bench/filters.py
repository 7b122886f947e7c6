"""Filter throughput (samples/s) and the language filter's per-language accuracy.

    .venv/bin/python bench/filters.py [--samples 2000] [--cores 2]
    .venv/bin/python bench/filters.py --accuracy

Throughput: the per-sample filters (run_filters) over bundled demo samples, cycled to
--samples, in --cores worker processes, plus the near-duplicate pass over the same set in
one process. No database: filters read only the sample's fields (back-translation, the one
filter that calls a model, is left unconfigured). Accuracy: the labelled set of
tests/synth/labelled_language_set.py through the language filter (script share × language
ID, pass at the configured confidence), and lingua 2 on the languages it ships, for
comparison; prints a Markdown table for docs/filters.md.
"""

import argparse
import json
import multiprocessing
import os
import platform
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parakh.settings")
os.environ.setdefault("DEBUG", "true")  # settings need no secret key to read thresholds


def _setup() -> None:
    import django

    django.setup()


def _demo_samples() -> list[tuple[str, str, list[dict]]]:
    samples = []
    for path in sorted((ROOT / "annotate" / "demo_data").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        samples += [(data["language"], s["task_type"], s["messages"]) for s in data["samples"]]
    return samples


def _filter_chunk(chunk: list[tuple[str, str, list[dict]]]) -> int:
    from synth.filters import run_filters
    from synth.models import Sample

    rejected = 0
    for language, task_type, messages in chunk:
        report = run_filters(Sample(language=language, task_type=task_type, messages=messages))
        rejected += not all(entry["passed"] for entry in report.values())
    return rejected


def _init_worker() -> None:
    _setup()
    # Warm the per-process detectors so the timing is of filtering, not of loading.
    _filter_chunk(_demo_samples()[:14])


def throughput(total: int, cores: int) -> None:
    demo = _demo_samples()
    samples = [demo[i % len(demo)] for i in range(total)]
    chunks = [samples[i : i + 50] for i in range(0, total, 50)]
    with multiprocessing.get_context("spawn").Pool(cores, initializer=_init_worker) as pool:
        pool.map(_filter_chunk, chunks[:cores])  # every worker started and warm
        start = time.perf_counter()
        rejected = sum(pool.map(_filter_chunk, chunks))
        elapsed = time.perf_counter() - start

    _setup()
    from synth.filters import near_duplicates

    texts = [
        (i, "\n".join(m["content"] for m in messages if m["role"] == "assistant") + f" {i}", True)
        for i, (_, _, messages) in enumerate(samples)
    ]
    start = time.perf_counter()
    duplicates = sum(not v.passed for v in near_duplicates(texts).values())
    dedup_elapsed = time.perf_counter() - start
    print(
        json.dumps(
            {
                "benchmark": "filters",
                "date": datetime.now(UTC).date().isoformat(),
                "machine": f"{platform.machine()} {os.cpu_count()} cores, "
                f"Python {platform.python_version()}",
                "command": f"bench/filters.py --samples {total} --cores {cores}",
                "samples": total,
                "cores": cores,
                "per_sample_filters_samples_per_s": round(total / elapsed, 1),
                "rejected": rejected,
                "near_duplicate_pass_samples_per_s_one_core": round(total / dedup_elapsed, 1),
                "near_duplicates_found": duplicates,
            },
            indent=2,
        )
    )


LINGUA_NAMES = {
    "bn": "BENGALI", "gu": "GUJARATI", "hi": "HINDI", "mr": "MARATHI", "pa": "PUNJABI",
    "ta": "TAMIL", "te": "TELUGU", "ur": "URDU", "en": "ENGLISH",
}  # fmt: skip


def accuracy() -> None:
    _setup()
    from lingua import Language as LinguaLanguage
    from lingua import LanguageDetectorBuilder

    from synth.filters import filter_setting, language_confidences
    from synth.languages import LANGUAGES, script_share
    from tests.synth.labelled_language_set import labelled_texts

    threshold = filter_setting("language_confidence_min")
    lingua = LanguageDetectorBuilder.from_languages(
        *(getattr(LinguaLanguage, name) for name in LINGUA_NAMES.values())
    ).build()
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    confusions: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for item in labelled_texts():
        language = LANGUAGES[item.language]
        row = counts[item.language]
        row["texts"] += 1
        row["written"] += item.origin == "written"
        confidences = language_confidences(item.text, language.script)
        value = (script_share(item.text, language) or 0.0) * confidences.get(item.language, 0.0)
        row["passed"] += value >= threshold
        likeliest = max(confidences, key=confidences.get, default="none")
        row["top1"] += likeliest == item.language
        if likeliest != item.language:
            confusions[item.language][likeliest] += 1
        if item.language in LINGUA_NAMES:
            # Lingua among the nine of our languages it ships; its own pass rate at the
            # same threshold.
            lingua_conf = lingua.compute_language_confidence(
                item.text, getattr(LinguaLanguage, LINGUA_NAMES[item.language])
            )
            row["lingua_passed"] += lingua_conf >= threshold

    print(f"Measured {datetime.now(UTC).date().isoformat()} with `bench/filters.py --accuracy`;")
    print(f"threshold {threshold}.\n")
    print(
        "| language | texts (written) | passes the filter | top-1 correct | "
        "lingua passes | most common confusion |"
    )
    print("|---|---|---|---|---|---|")
    total = defaultdict(int)
    for code in LANGUAGES:
        row = counts[code]
        for key, value in row.items():
            total[key] += value
        lingua_cell = (
            f"{row['lingua_passed'] / row['texts']:.1%}" if code in LINGUA_NAMES else "not shipped"
        )
        confused = ", ".join(f"{k} ×{v}" for k, v in confusions[code].items()) or "—"
        print(
            f"| {code} {LANGUAGES[code].name} | {row['texts']} ({row['written']}) | "
            f"{row['passed'] / row['texts']:.1%} | {row['top1'] / row['texts']:.1%} | "
            f"{lingua_cell} | {confused} |"
        )
    print(
        f"| all | {total['texts']} ({total['written']}) | {total['passed'] / total['texts']:.1%} "
        f"| {total['top1'] / total['texts']:.1%} | | |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--accuracy", action="store_true")
    args = parser.parse_args()
    if args.accuracy:
        accuracy()
    else:
        throughput(args.samples, args.cores)


if __name__ == "__main__":
    main()
