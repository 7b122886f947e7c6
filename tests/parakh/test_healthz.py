import shutil
import socket
import subprocess
import time

import pytest
import redis

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_redis_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


def test_healthz_without_redis_configured_is_ok(client, settings):
    settings.REDIS_URL = ""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["redis"] == "not configured"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server of this test's own, so stopping it leaves the suite's Redis alone."""
    binary = shutil.which("redis-server")
    assert binary, "redis-server must be installed (see .ci/run)"
    port = _free_port()
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    yield url, process
    process.kill()
    process.wait()


def test_healthz_reports_a_stopped_redis_as_503(client, settings, own_redis):
    url, process = own_redis
    settings.REDIS_URL = url
    assert client.get("/healthz").status_code == 200

    process.terminate()
    process.wait(timeout=10)

    response = client.get("/healthz")
    assert response.status_code == 503
    # Liveness does not depend on Redis: the process itself still answers.
    assert client.get("/livez").content == b"ok"
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"] == "ok"
    assert body["redis"].startswith("error: ConnectionError")


def test_healthz_is_not_redirected_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200


def test_livez_answers_without_touching_the_database(client, settings, django_assert_num_queries):
    settings.SECURE_SSL_REDIRECT = True
    with django_assert_num_queries(0):
        response = client.get("/livez")
    assert response.status_code == 200
    assert response.content == b"ok"
