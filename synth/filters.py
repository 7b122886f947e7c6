"""Quality filters run on every generated sample (queue "cpu").

Each filter returns a report entry {value, threshold, passed}; the sample's filter_report
keeps them all, and a sample that fails any is rejected with its reasons, never deleted.
"""

from dataclasses import asdict, dataclass

from django.conf import settings

from .languages import get_language, script_share
from .models import Sample
from .task_types import TaskType


@dataclass(frozen=True, slots=True)
class FilterResult:
    name: str
    value: float | None
    threshold: float
    passed: bool
    detail: str = ""

    def as_report(self) -> dict:
        report = asdict(self)
        del report["name"]
        return report


def _response_language(sample: Sample) -> str:
    # The answer of an xx→en translation is English, whatever the sample's language.
    return "en" if sample.task_type == TaskType.TRANSLATION_XX_EN else sample.language


def script_check(sample: Sample) -> FilterResult:
    """Share of the assistant's letters written in the expected script."""
    threshold = settings.PARAKH_FILTERS["script_share_min"]
    language = get_language(_response_language(sample))
    text = "\n".join(m["content"] for m in sample.messages if m["role"] == "assistant")
    share = script_share(text, language)
    if share is None:
        return FilterResult("script", None, threshold, False, "the response has no letters")
    return FilterResult(
        "script",
        round(share, 4),
        threshold,
        share >= threshold,
        f"{share:.0%} of letters in {language.script.name} script",
    )


FILTERS = (script_check,)


def run_filters(sample: Sample) -> dict[str, dict]:
    return {result.name: result.as_report() for result in (f(sample) for f in FILTERS)}
