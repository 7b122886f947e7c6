"""Corpus-level filtering: near-duplicates among the samples of one language."""

from django.db import transaction

from parakh.transitions import check_transition

from ..filters import near_duplicates
from ..models import Sample

NEAR_DUPLICATE = "near_duplicate"


def _passes_other_filters(report: dict) -> bool:
    return all(entry["passed"] for name, entry in report.items() if name != NEAR_DUPLICATE)


def samples_filter_near_duplicates(*, language: str) -> dict[str, int]:
    """Add the near-duplicate verdict to every filtered sample of ``language``.

    Samples are compared in creation order: the first stays, a later near-duplicate is
    rejected with the id of the one it repeats. Samples not yet filtered are left for the
    next run. Idempotent: a second run finds the same verdicts and writes nothing. Returns
    counts {"checked", "updated", "duplicates"}.
    """
    rows = list(
        Sample.objects.filter(language=language)
        .exclude(status=Sample.Status.GENERATED)
        .order_by("created_at", "pk")
        .values_list("pk", "messages", "filter_report")
    )
    verdicts = near_duplicates(
        (
            pk,
            "\n".join(m["content"] for m in messages if m["role"] == "assistant"),
            _passes_other_filters(report),
        )
        for pk, messages, report in rows
    )
    changed = [
        pk for pk, _, report in rows if report.get(NEAR_DUPLICATE) != verdicts[pk].as_report()
    ]
    with transaction.atomic():
        # The rows may have moved since they were read (a staff override, a re-filter):
        # lock them and decide the status from what is there now.
        samples = list(Sample.objects.select_for_update().filter(pk__in=changed).order_by("pk"))
        for sample in samples:
            sample.filter_report = {
                **sample.filter_report,
                NEAR_DUPLICATE: verdicts[sample.pk].as_report(),
            }
            passed = _passes_other_filters(sample.filter_report) and verdicts[sample.pk].passed
            target = Sample.Status.PASSED if passed else Sample.Status.REJECTED
            if target != sample.status:
                check_transition(
                    sample, current=sample.status, target=target, allowed=Sample.TRANSITIONS
                )
                sample.status = target
        Sample.objects.bulk_update(samples, ["filter_report", "status"], batch_size=1000)
    return {
        "checked": len(rows),
        "updated": len(samples),
        "duplicates": sum(not verdict.passed for verdict in verdicts.values()),
    }
