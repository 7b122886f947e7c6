"""Quality filters run on every generated sample (queue "cpu"). See docs/filters.md.

Each filter returns a report entry {value, threshold, passed, detail}; the sample's
filter_report keeps them all, and a sample that fails any is rejected with its reasons, never
deleted. ``run_filters`` looks at one sample; ``near_duplicates`` looks at a language's
samples together (synth.services.samples_filter_near_duplicates writes its verdicts).
Thresholds are settings: ``PARAKH_FILTERS[key]``, with the defaults below.

datasketch (which pulls in scipy) and sacrebleu are imported where they are used: every
management command imports this module through synth.services, and most never filter.
"""

import functools
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import langdetect
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from langdetect.detector_factory import DetectorFactory
from langdetect.lang_detect_exception import LangDetectException

from .languages import LANGUAGES, Language, Script, get_language, script_share
from .models import Sample
from .task_types import TaskType

if TYPE_CHECKING:
    from datasketch import MinHash

DEFAULT_LENGTH_BOUNDS: dict[str, tuple[int, int]] = {
    # Characters (code points) of all assistant messages together. Minimums catch empty or
    # cut-off replies without rejecting a genuine short poem or answer; maximums catch
    # runaway generation. Multi-turn dialogue sums 3-5 turns.
    TaskType.LOGICAL_REASONING: (100, 8000),
    TaskType.MULTIHOP_QA: (20, 6000),
    TaskType.CREATIVE_WRITING: (20, 8000),
    TaskType.MULTITURN_DIALOGUE: (100, 16000),
    TaskType.SUMMARIZATION: (50, 4000),
    TaskType.TRANSLATION_EN_XX: (10, 8000),
    TaskType.TRANSLATION_XX_EN: (10, 8000),
    TaskType.CAUSAL_REASONING: (100, 8000),
    TaskType.CULTURAL_MULTIHOP_REASONING: (100, 8000),
    TaskType.TRANSLATED_REASONING: (20, 12000),
}

DEFAULTS: dict[str, object] = {
    "script_share_min": 0.75,
    "language_confidence_min": 0.75,
    "repetition_ratio_max": 0.75,
    "repetition_ngram": 2,
    "length_bounds": {},  # {task_type: [min, max]}, merged over DEFAULT_LENGTH_BOUNDS
    "near_duplicate_jaccard": 0.8,
    "near_duplicate_ngram": 5,
    "near_duplicate_num_perm": 128,
    "back_translation_endpoint": "",  # a ModelEndpoint name; empty: not configured
    "back_translation_chrf_min": 50.0,
}

TRANSLATED_TASK_TYPES = {
    TaskType.TRANSLATION_EN_XX,
    TaskType.TRANSLATION_XX_EN,
    TaskType.TRANSLATED_REASONING,
}

# Languages that share a script with ours and that langdetect can tell apart, per script.
# Arabic and Persian stand in for "not Urdu"; the Latin list holds every Latin-script
# language langdetect ships, so romanised Hindi does not pass as English.
LANGDETECT_LATIN = (
    "af", "ca", "cs", "cy", "da", "de", "en", "es", "et", "fi", "fr", "hr", "hu", "id", "it",
    "lt", "lv", "nl", "no", "pl", "pt", "ro", "sk", "sl", "so", "sq", "sv", "sw", "tl", "tr", "vi",
)  # fmt: skip
LANGDETECT_CANDIDATES: dict[str, tuple[str, ...]] = {
    "Deva": ("hi", "mr", "ne"),
    "Arab": ("ur", "ar", "fa"),
    "Latn": LANGDETECT_LATIN,
}
# Assamese writes r and w with letters of its own; Bengali writes r with র.
ASSAMESE_LETTERS = frozenset("\u09f0\u09f1")  # ৰ ৱ
BENGALI_ONLY_LETTERS = frozenset("\u09b0")  # র


def filter_setting(key: str):
    return getattr(settings, "PARAKH_FILTERS", {}).get(key, DEFAULTS[key])


@dataclass(frozen=True, slots=True)
class FilterResult:
    name: str
    value: float | None
    # A bound for most filters; [min, max] for length; None where nothing was measured.
    threshold: float | list[int] | None
    passed: bool
    detail: str = ""

    def as_report(self) -> dict:
        report = asdict(self)
        del report["name"]
        return report


def _response_language(sample: Sample) -> Language:
    # The answer of an xx→en translation is English, whatever the sample's language.
    code = "en" if sample.task_type == TaskType.TRANSLATION_XX_EN else sample.language
    return get_language(code)


def _response_text(sample: Sample) -> str:
    return "\n".join(m["content"] for m in sample.messages if m["role"] == "assistant")


def script_check(sample: Sample) -> FilterResult:
    """Share of the assistant's letters written in the expected script."""
    threshold = filter_setting("script_share_min")
    language = _response_language(sample)
    share = script_share(_response_text(sample), language)
    if share is None:
        return FilterResult("script", None, threshold, False, "the response has no letters")
    return FilterResult(
        "script",
        round(share, 4),
        threshold,
        share >= threshold,
        f"{share:.0%} of letters in {language.script.name} script",
    )


@functools.cache
def _langdetect_factory(script_code: str) -> DetectorFactory:
    """A langdetect factory that knows only the script's candidates, built once per process."""
    profiles = Path(langdetect.__file__).parent / "profiles"
    factory = DetectorFactory()
    factory.load_json_profile(
        [
            (profiles / code).read_text(encoding="utf-8")
            for code in LANGDETECT_CANDIDATES[script_code]
        ]
    )
    # langdetect samples n-grams at random; a fixed seed makes a verdict reproducible.
    factory.seed = 0
    return factory


def _in_script(text: str, script: Script) -> str:
    # Letters of other scripts (an English term in a Hindi answer) are the script check's
    # business; the language ID looks only at the script's own letters.
    return "".join(c if not c.isalpha() or script.contains(c) else " " for c in text)


def _assamese_share(text: str) -> float:
    assamese = sum(c in ASSAMESE_LETTERS for c in text)
    bengali = sum(c in BENGALI_ONLY_LETTERS for c in text)
    # Half a count of prior each way: no r or w at all gives 0.5, which passes neither.
    return (assamese + 0.5) / (assamese + bengali + 1)


def language_confidences(text: str, script: Script) -> dict[str, float]:
    """Confidence of each language written in ``script``, from the text's letters in it.

    Scripts used by one of our languages only (Odia, Tamil, ...) give that language 1.0;
    the script check has already measured how much of the text is in that script.
    """
    text = _in_script(text, script)
    if script.code == "Beng":
        share = _assamese_share(text)
        return {"as": share, "bn": 1 - share}
    if script.code in LANGDETECT_CANDIDATES:
        detector = _langdetect_factory(script.code).create()
        detector.append(text)
        try:
            return {found.lang: found.prob for found in detector.get_probabilities()}
        except LangDetectException:  # no letters left to look at
            return {}
    return {code: 1.0 for code, language in LANGUAGES.items() if language.script == script}


def language_check(sample: Sample) -> FilterResult:
    """Confidence that the response is in the expected language: script share × language ID."""
    threshold = filter_setting("language_confidence_min")
    language = _response_language(sample)
    text = _response_text(sample)
    share = script_share(text, language)
    if share is None:
        return FilterResult("language", None, threshold, False, "the response has no letters")
    confidences = language_confidences(text, language.script)
    confidence = share * confidences.get(language.code, 0.0)
    likeliest = max(confidences, key=confidences.get, default=None)
    found = ", ".join(
        f"{code} {p:.0%}" for code, p in sorted(confidences.items(), key=lambda i: -i[1])[:3]
    )
    return FilterResult(
        "language",
        round(confidence, 4),
        threshold,
        confidence >= threshold,
        f"{language.name} expected; most likely {likeliest or 'none'} ({found or 'no signal'}); "
        f"{share:.0%} of letters in {language.script.name} script",
    )


def _words(text: str) -> list[str]:
    # Split on white space and strip punctuation and symbols (। ॥ ۔ included); \w would
    # cut Indic words at their vowel signs, which are marks, not letters.
    words = ("".join(c for c in w if unicodedata.category(c)[0] not in "PS") for w in text.split())
    return [w.casefold() for w in words if w]


def repetition_ratio(text: str, n: int) -> tuple[float, int, int]:
    """Share of word n-gram occurrences that belong to an n-gram occurring more than once.

    Returns (ratio, repeated occurrences, all occurrences); 0.0 when the text has fewer
    than n words.
    """
    words = _words(text)
    counts = Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))
    total = sum(counts.values())
    repeated = sum(count for count in counts.values() if count > 1)
    return (repeated / total if total else 0.0), repeated, total


def repetition_check(sample: Sample) -> FilterResult:
    threshold = filter_setting("repetition_ratio_max")
    n = filter_setting("repetition_ngram")
    ratio, repeated, total = repetition_ratio(_response_text(sample), n)
    return FilterResult(
        "repetition",
        round(ratio, 4),
        threshold,
        ratio < threshold,
        f"{repeated} of {total} word {n}-grams belong to a repeated {n}-gram",
    )


def length_bounds(task_type: str) -> tuple[int, int]:
    configured = filter_setting("length_bounds").get(task_type)
    low, high = configured if configured is not None else DEFAULT_LENGTH_BOUNDS[task_type]
    return int(low), int(high)


def length_check(sample: Sample) -> FilterResult:
    low, high = length_bounds(sample.task_type)
    length = len(_response_text(sample))
    if length < low:
        detail = f"{length} characters, fewer than {low}"
    elif length > high:
        detail = f"{length} characters, more than {high}"
    else:
        detail = f"{length} characters"
    return FilterResult("length", length, [low, high], low <= length <= high, detail)


def back_translation_chrf(back_translated: str, source: str) -> float:
    """chrF (sacrebleu, 0-100) of a back-translation against the original source text."""
    import sacrebleu

    return round(sacrebleu.sentence_chrf(back_translated, [source]).score, 2)


BACK_TRANSLATION_INSTRUCTION = (
    "Translate the user's text into {language}. Keep numbers, formulae, code and URLs "
    "unchanged. Reply with the translation only."
)


def _back_translate(endpoint_name: str, text: str, into: Language) -> str:
    # Imported here: the backends pull in HTTP clients the other filters never need.
    from .backends import BackendError, BackendUnavailable, ChatRequest, backend_for
    from .models import ModelEndpoint

    endpoint = ModelEndpoint.objects.filter(name=endpoint_name).first()
    if endpoint is None:
        # Loud, not a rejection: a typo in the settings must not reject every translation.
        raise ImproperlyConfigured(
            f"PARAKH_FILTERS['back_translation_endpoint'] names {endpoint_name!r}, "
            "but no model endpoint has that name."
        )
    instruction = BACK_TRANSLATION_INSTRUCTION.format(language=into.name)
    request = ChatRequest(
        messages=[{"role": "system", "content": instruction}, {"role": "user", "content": text}],
        max_tokens=max(256, 2 * len(text)),
    )
    [result] = backend_for(endpoint).chat([request])
    if not result.ok:
        # The sample stays unfiltered and the task can run again; no guessed score.
        error = BackendUnavailable if result.transient else BackendError
        raise error(f"Back-translation through {endpoint_name!r} failed: {result.error}")
    return result.text


def back_translation_check(sample: Sample) -> FilterResult:
    """chrF of the response translated back against the source (translated samples only)."""
    threshold = filter_setting("back_translation_chrf_min")
    endpoint_name = filter_setting("back_translation_endpoint")
    if not endpoint_name:
        return FilterResult(
            "back_translation",
            None,
            threshold,
            True,
            "not configured: set PARAKH_FILTERS['back_translation_endpoint'] to a model endpoint",
        )
    source = sample.source.text if sample.source is not None else ""
    if not source.strip():
        return FilterResult(
            "back_translation", None, threshold, True, "no source text to compare with"
        )
    # Back into the source's language: English for en→xx and translated reasoning.
    into = get_language(sample.language if sample.task_type == TaskType.TRANSLATION_XX_EN else "en")
    back = _back_translate(endpoint_name, _response_text(sample), into)
    score = back_translation_chrf(back, source)
    return FilterResult(
        "back_translation",
        score,
        threshold,
        score >= threshold,
        f"chrF {score:.1f} of the {into.name} back-translation by {endpoint_name} "
        "against the source",
    )


FILTERS = (script_check, language_check, repetition_check, length_check)


def run_filters(sample: Sample) -> dict[str, dict]:
    """Every per-sample filter's report entry, by filter name."""
    results = [f(sample) for f in FILTERS]
    if sample.task_type in TRANSLATED_TASK_TYPES:
        results.append(back_translation_check(sample))
    return {result.name: result.as_report() for result in results}


def _minhash(text: str, ngram: int, num_perm: int) -> "MinHash":
    from datasketch import MinHash

    # Character n-grams over the text with white space collapsed: robust to re-wrapping
    # and to scripts without spaces between words.
    text = " ".join(text.split())
    shingles = {text[i : i + ngram] for i in range(max(1, len(text) - ngram + 1))}
    minhash = MinHash(num_perm=num_perm, seed=1)
    minhash.update_batch(s.encode("utf-8") for s in shingles)
    return minhash


def near_duplicates(
    samples: Iterable[tuple[int, str, bool]],
) -> dict[int, FilterResult]:
    """Near-duplicate verdicts for ``(id, response text, eligible)`` in creation order.

    MinHash LSH over character n-grams: a sample whose estimated Jaccard similarity with an
    earlier eligible sample reaches the threshold is a duplicate of the most similar one.
    Only eligible samples (those not rejected for another reason) become originals that
    later ones are compared with, so a rejected sample never keeps its duplicate out.
    """
    threshold = filter_setting("near_duplicate_jaccard")
    ngram = filter_setting("near_duplicate_ngram")
    num_perm = filter_setting("near_duplicate_num_perm")
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    kept: dict[int, MinHash] = {}
    verdicts = {}
    for sample_id, text, eligible in samples:
        minhash = _minhash(text, ngram, num_perm)
        similar = [(minhash.jaccard(kept[other]), other) for other in lsh.query(minhash)]
        # LSH gives candidates; the estimate decides (a candidate may fall below the bound).
        # The most similar wins, the earliest among equals.
        best = max(similar, key=lambda pair: (pair[0], -pair[1]), default=(0.0, None))
        jaccard, other = best
        if other is None or jaccard < threshold:
            verdicts[sample_id] = FilterResult(
                "near_duplicate",
                round(jaccard, 4),
                threshold,
                True,
                "no earlier near-duplicate",
            )
            if eligible:
                lsh.insert(sample_id, minhash)
                kept[sample_id] = minhash
        else:
            verdicts[sample_id] = FilterResult(
                "near_duplicate",
                round(jaccard, 4),
                threshold,
                False,
                f"near-duplicate of sample {other} (estimated Jaccard {jaccard:.2f})",
            )
    return verdicts
