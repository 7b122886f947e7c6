"""Settings come from the environment; production values pass Django's deploy checklist."""

import os
import subprocess
import sys
from pathlib import Path

from tests.utils import base_env

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "kP3n9-vQ2x_Lr7Tz8mW4yB1cF6hJ0sD5gA-eU9oI2pN7qR4tV8wX3zY6bC1dE5fG",
    "ALLOWED_HOSTS": "parakh.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://parakh.example.org",
    "DATABASE_URL": os.environ["DATABASE_URL"],
    "REDIS_URL": os.environ["REDIS_URL"],
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = base_env()
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_values():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNING" not in output and "System check identified no issues" in output


def test_missing_secret_key_with_debug_off_is_a_clear_startup_error():
    env = {**PRODUCTION_ENV}
    del env["SECRET_KEY"]
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_debug_without_secret_key_starts_for_local_development():
    env = {**PRODUCTION_ENV, "DEBUG": "true"}
    del env["SECRET_KEY"]
    result = manage("check", env=env)
    assert result.returncode == 0, result.stderr


def test_a_malformed_boolean_names_the_variable():
    result = manage("check", env={**PRODUCTION_ENV, "DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr


def test_embedded_default_uses_sqlite_under_var_and_eager_tasks(tmp_path):
    code = (
        "from django.conf import settings; import django; django.setup();"
        "from parakh.celery import app;"
        "print(settings.DATABASES['default']['ENGINE'], settings.DATABASES['default']['NAME']);"
        "print(settings.CACHES['default']['BACKEND'], app.conf.task_always_eager)"
    )
    clean = base_env()
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={
            **clean,
            "DEBUG": "true",
            "PARAKH_VAR_DIR": str(tmp_path),
            "DJANGO_SETTINGS_MODULE": "parakh.settings",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    engine_line, cache_line = result.stdout.split("\n")[:2]
    assert engine_line == f"django.db.backends.sqlite3 {tmp_path / 'parakh.sqlite3'}"
    assert cache_line == "django.core.cache.backends.locmem.LocMemCache True"
