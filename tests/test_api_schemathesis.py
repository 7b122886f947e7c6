"""Schemathesis over the whole OpenAPI schema, as staff: no input may produce a 5xx."""

import json

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error

from parakh.wsgi import application
from tests.factories import RatingFactory, SampleFactory

# The same document /api/schema/ serves (a test in test_api.py compares them), built
# without a request so that collection needs no database.
_document = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(public=True)))
schema = schemathesis.openapi.from_dict(_document)
schema.app = application


@pytest.fixture
def staff_token(staff) -> str:
    # Requests go straight to the WSGI app, not through Django's test client: keep Django
    # from closing the test's connection (and its transaction) after each request.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    # Some real rows, so that detail and filter requests reach real code, not only 404s.
    RatingFactory.create_batch(3)
    SampleFactory(language="ur")
    yield Token.objects.create(user=staff).key
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_input_produces_a_server_error(case, staff_token):
    case.call_and_validate(
        headers={"Authorization": f"Token {staff_token}"}, checks=[not_a_server_error]
    )
