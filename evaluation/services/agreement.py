"""Agreement reports: compute and store them in the cache, and queue recomputes (debounced).

Reports live in Django's cache (Redis in production), never in a table: they are derived
from the Rating table and can always be rebuilt. Each part carries computed_at and the
ratings version it was built from, so a page can say how fresh it is.
"""

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from ..selectors.agreement import (
    AgreementFilter,
    agreement_cache_key,
    agreement_report_build,
    agreement_report_cached,
    ratings_version,
)


def _cache_seconds() -> int:
    return getattr(settings, "PARAKH_AGREEMENT_CACHE_SECONDS", 7 * 24 * 60 * 60)


def _lock_seconds() -> int:
    return getattr(settings, "PARAKH_AGREEMENT_LOCK_SECONDS", 15 * 60)


def agreement_report_refresh(*, filters: AgreementFilter, resamples: int | None = None) -> dict:
    """Compute the whole report for a filter and store every part; returns the overview.

    Releases the recompute lock afterwards, so that ratings arriving during the computation
    queue one more recompute on the next page view."""
    try:
        parts = agreement_report_build(filters=filters, resamples=resamples)
        cache.set_many(
            {agreement_cache_key(filters=filters, part=name): data for name, data in parts.items()},
            timeout=_cache_seconds(),
        )
    finally:
        cache.delete(agreement_cache_key(filters=filters, part="lock"))
    return parts["overview"]


def agreement_report_queue(*, filters: AgreementFilter) -> bool:
    """Queue a recompute on the cpu queue unless one is already pending for this filter.

    The lock is a cache.add (atomic in Redis) with a timeout: one pending recompute per
    filter, and a crashed worker cannot block recomputes for longer than the timeout.
    Returns whether a recompute was queued."""
    from ..tasks.agreement import agreement_report_compute

    if not cache.add(agreement_cache_key(filters=filters, part="lock"), 1, _lock_seconds()):
        return False
    payload = filters.as_dict()
    transaction.on_commit(lambda: agreement_report_compute.delay(payload))
    return True


def agreement_report_ensure(*, filters: AgreementFilter, part: str = "overview") -> dict:
    """What a page shows: the stored part (or None), whether it is out of date, and whether
    a recompute is pending; queues one when the part is missing or the ratings changed."""
    data = agreement_report_cached(filters=filters, part=part)
    stale = data is None or data.get("ratings_version") != ratings_version()
    queued = agreement_report_queue(filters=filters) if stale else False
    pending = queued or (
        stale and cache.get(agreement_cache_key(filters=filters, part="lock")) is not None
    )
    return {"data": data, "stale": stale, "pending": pending}
