import os
import uuid


def base_env() -> dict[str, str]:
    """Only what a subprocess needs to start: none of the suite's own test settings."""
    return {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR") if k in os.environ}


def worker_env() -> dict[str, str]:
    """The environment of a real Celery worker process on this test's database: the
    test's own PostgreSQL database (not the one DATABASE_URL names), tasks not eager."""
    from django.db import connection

    database = connection.settings_dict
    return {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
            f"{database['NAME']}"
        ),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DATABASE_CONN_MAX_AGE": "0",
    }


def worker_options(*, queue: str, name: str) -> list[str]:
    """`celery worker` arguments for one solo-pool test worker on ``queue``."""
    return [
        "worker",
        "-Q",
        queue,
        "--pool=solo",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-n",
        f"{name}-{uuid.uuid4().hex[:8]}@%h",
        "--loglevel=INFO",
    ]
