"""Every write to the synth app's tables, by concern; what other apps call is here."""

from .generation import generation_job_transition
from .samples import sample_create, sample_filter, sample_queue_filter, sample_transition
from .sources import content_hash, source_get_or_create, sources_import

__all__ = [
    "content_hash",
    "generation_job_transition",
    "sample_create",
    "sample_filter",
    "sample_queue_filter",
    "sample_transition",
    "source_get_or_create",
    "sources_import",
]
