import pytest
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
