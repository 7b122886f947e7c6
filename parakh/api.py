"""Glue between domain errors and DRF: a refused write is a 400 that says why, never a 500."""

from datetime import UTC

from django.core.exceptions import ValidationError as DjangoValidationError
from django_filters import rest_framework as filters
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


class UtcIsoDateTimeFilter(filters.IsoDateTimeFilter):
    """An ISO 8601 filter that queries in UTC: PostgreSQL refuses offsets past ±15:59 that
    ISO 8601 parsers accept (a 500 found by schemathesis); far-off values are a 400."""

    def filter(self, qs, value):
        if value is not None:
            try:
                value = value.astimezone(UTC)
            except (OverflowError, ValueError) as error:
                raise serializers.ValidationError({self.field_name: str(error)}) from error
        return super().filter(qs, value)
