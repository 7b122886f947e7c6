"""Glue between domain errors and DRF: a refused write is a 400 that says why, never a 500."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from parakh.transitions import DomainError


def as_drf_error(error: DjangoValidationError | DomainError) -> serializers.ValidationError:
    if isinstance(error, DjangoValidationError):
        detail = error.message_dict if hasattr(error, "error_dict") else error.messages
        return serializers.ValidationError(detail)
    return serializers.ValidationError({"detail": str(error)})


class SlugRelatedField(serializers.SlugRelatedField):
    """DRF's SlugRelatedField, refusing NUL bytes before they reach PostgreSQL (which cannot
    store or compare them and would answer with a DataError, i.e. a 500)."""

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("invalid")
        return super().to_internal_value(data)
