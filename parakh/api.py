"""Glue between domain errors and DRF: a refused write is a 400 that says why, never a 500."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from parakh.transitions import DomainError


def as_drf_error(error: DjangoValidationError | DomainError) -> serializers.ValidationError:
    if isinstance(error, DjangoValidationError):
        detail = error.message_dict if hasattr(error, "error_dict") else error.messages
        return serializers.ValidationError(detail)
    return serializers.ValidationError({"detail": str(error)})
