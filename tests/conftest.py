import pytest
from django.db import connection
from rest_framework.test import APIClient

from tests.factories import PASSWORD, AnnotatorFactory, StaffFactory


@pytest.fixture
def staff(db):
    return StaffFactory(username="staff")


@pytest.fixture
def annotator(db):
    return AnnotatorFactory(username="annotator")


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def staff_api(staff) -> APIClient:
    client = APIClient()
    client.force_authenticate(staff)
    return client


@pytest.fixture
def annotator_api(annotator) -> APIClient:
    client = APIClient()
    client.force_authenticate(annotator)
    return client


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture(scope="session", autouse=True)
def stray_backends_closed_before_teardown(django_db_setup, django_db_blocker):
    """Before the test database is dropped, end the sessions that worker processes killed
    by the tests (or threads' connections just closed) may still hold on the server for a
    moment: DROP DATABASE refuses while any is there."""
    yield
    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
