"""Every write to the synth app's tables, by concern; what other apps call is here."""

from .filtering import samples_filter_near_duplicates
from .generation import (
    generation_chunk_process,
    generation_job_cancel,
    generation_job_counts_refresh,
    generation_job_create,
    generation_job_fail,
    generation_job_resume,
    generation_job_start,
    generation_job_transition,
)
from .samples import (
    sample_build,
    sample_create,
    sample_filter,
    sample_queue_filter,
    sample_transition,
    samples_create_bulk,
    samples_filter,
    samples_queue_filter,
)
from .sources import content_hash, source_get_or_create, sources_import

__all__ = [
    "content_hash",
    "generation_chunk_process",
    "generation_job_cancel",
    "generation_job_counts_refresh",
    "generation_job_create",
    "generation_job_fail",
    "generation_job_resume",
    "generation_job_start",
    "generation_job_transition",
    "sample_build",
    "sample_create",
    "sample_filter",
    "sample_queue_filter",
    "sample_transition",
    "samples_create_bulk",
    "samples_filter",
    "samples_filter_near_duplicates",
    "samples_queue_filter",
    "source_get_or_create",
    "sources_import",
]
