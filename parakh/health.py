"""GET /healthz (readiness): is this process able to serve? 200 when every configured
dependency answers, 503 naming the one that does not. GET /livez (liveness): is the process
answering at all? 200 with nothing checked, so a restart is not triggered by an outage of
the database. Both outside ATOMIC_REQUESTS: with the database down, opening the request's
transaction would already fail."""

import redis
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

REDIS_TIMEOUT_SECONDS = 2


def _database_state() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        return f"error: {type(error).__name__}: {error}".strip()
    return "ok"


def _redis_state() -> str:
    if not settings.REDIS_URL:
        return "not configured"
    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
    )
    try:
        client.ping()
    except redis.RedisError as error:
        return f"error: {type(error).__name__}: {error}"
    finally:
        client.close()
    return "ok"


@never_cache
@require_GET
@transaction.non_atomic_requests
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database_state(), "redis": _redis_state()}
    healthy = all(state in ("ok", "not configured") for state in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", **checks}, status=200 if healthy else 503
    )


@never_cache
@require_GET
@transaction.non_atomic_requests
def livez(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")
