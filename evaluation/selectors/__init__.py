"""Reads of the evaluation app, by concern; what other apps call is here."""

from .agreement import (
    ALL_LANGUAGES,
    AgreementFilter,
    agreement_report_build,
    agreement_report_cached,
    agreement_report_pending,
    ratings_version,
)
from .ratings import dimension_list, rating_list_visible_to

__all__ = [
    "ALL_LANGUAGES",
    "AgreementFilter",
    "agreement_report_build",
    "agreement_report_cached",
    "agreement_report_pending",
    "dimension_list",
    "rating_list_visible_to",
    "ratings_version",
]
