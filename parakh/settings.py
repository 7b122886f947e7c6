"""Parakh settings: one module, read from the environment.

The embedded default (no DATABASE_URL, no REDIS_URL) is a SQLite file under var/, Celery
tasks run eagerly and the cache is local memory: enough for the demo. Production and CI set
DATABASE_URL (PostgreSQL) and REDIS_URL (broker, result backend, cache). The variables are
listed in the README's configuration table.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PARAKH_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use true or false).")


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer.") from None


# Off unless asked for: a forgotten variable must not expose tracebacks in production.
DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY to a long random string "
            '(python -c "import secrets; print(secrets.token_urlsafe(50))"), '
            "or set DEBUG=true for local development."
        )
    SECRET_KEY = "django-insecure-parakh-local-development-only"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "synth",
    "evaluation",
    "annotate",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "parakh.urls"
WSGI_APPLICATION = "parakh.wsgi.application"
ASGI_APPLICATION = "parakh.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# https://github.com/jazzband/dj-database-url — postgres://user:pass@host:5432/name
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if not DATABASE_URL:
    # The embedded default: SQLite cannot create the folder its file lives in.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL or f"sqlite:///{VAR_DIR / 'parakh.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
# Every request is one transaction: a view that fails half-way writes nothing.
DATABASES["default"]["ATOMIC_REQUESTS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
    "DATABASE_PREPARED_STATEMENTS", True
):
    # Lets psycopg prepare the statements that ask for it (parakh.prepared); Django's own
    # client-side cursors never do. Off for PgBouncer in transaction mode before 1.21.
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "parakh",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Django's ModelBackend with the per-request user read prepared.
AUTHENTICATION_BACKENDS = ["parakh.auth.ModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "annotate:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed, compressed names in production (needs collectstatic, run by the Dockerfile);
        # plain files for the demo and the tests (STATIC_MANIFEST=false).
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env_bool("STATIC_MANIFEST", not DEBUG)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Security: secure by default whenever DEBUG is off ------------------------------------
# https://docs.djangoproject.com/en/5.2/howto/deployment/checklist/
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Load balancers and orchestrators probe /healthz and /livez over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^livez$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
# Sessions are read from the cache (Redis) and written through to the database: every
# annotator request spends a cache GET instead of a query, and a flushed cache loses none.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
# Only behind a proxy that sets X-Forwarded-Proto itself (docker/compose.yaml documents it).
if env_bool("USE_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"

# --- Django REST framework ------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["parakh.permissions.IsStaffOrReadOnly"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "parakh.pagination.Pagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Parakh API",
    "DESCRIPTION": "Samples, rubric dimensions and ratings of culturally grounded "
    "multilingual instruction data.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from drf-spectacular-sidecar's static files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a field named status with different choices.
    "ENUM_NAME_OVERRIDES": {
        "RunStatusEnum": "parakh.transitions.RunStatus",
        "SampleStatusEnum": "synth.models.SampleStatus",
        "BatchStatusEnum": "annotate.models.BatchStatus",
        "AssignmentStatusEnum": "annotate.models.AssignmentStatus",
    },
}

# --- Celery -----------------------------------------------------------------------------------
# https://docs.celeryq.dev/en/stable/userguide/configuration.html
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
# Without Redis there is no worker: tasks run in-process (the embedded default).
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 60 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
# Redis redelivers an unacknowledged task after visibility_timeout; it must outlast the
# longest hard time limit or a running acks_late task is handed to a second worker.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT * 2}
CELERY_RESULT_EXPIRES = 24 * 60 * 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_TASK_DEFAULT_QUEUE = "cpu"
CELERY_TASK_QUEUES = (Queue("gpu"), Queue("cpu"))
# Generation and judging need the model loaded on a GPU worker; everything else is CPU work.
CELERY_TASK_ROUTES = {
    "synth.tasks.generate_*": {"queue": "gpu"},
    "evaluation.tasks.judging.*": {"queue": "gpu"},
    "*": {"queue": "cpu"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# --- Parakh -----------------------------------------------------------------------------------
# Quality filter thresholds (synth.filters); the paper's defaults.
# Every key and its meaning: docs/filters.md.
PARAKH_FILTERS = {
    "script_share_min": float(os.environ.get("PARAKH_SCRIPT_SHARE_MIN", "0.75")),
    "language_confidence_min": float(os.environ.get("PARAKH_LANGUAGE_CONFIDENCE_MIN", "0.75")),
    "repetition_ratio_max": float(os.environ.get("PARAKH_REPETITION_RATIO_MAX", "0.75")),
    "repetition_ngram": 2,
    "length_bounds": {},  # {task_type: [min, max]} over the defaults in docs/filters.md
    "near_duplicate_jaccard": float(os.environ.get("PARAKH_NEAR_DUPLICATE_JACCARD", "0.8")),
    "near_duplicate_ngram": 5,
    "near_duplicate_num_perm": 128,
    # A ModelEndpoint name; empty: back-translation chrF is reported as not configured.
    "back_translation_endpoint": os.environ.get("PARAKH_BACK_TRANSLATION_ENDPOINT", ""),
    "back_translation_chrf_min": float(os.environ.get("PARAKH_BACK_TRANSLATION_CHRF_MIN", "50")),
}

# Agreement dashboards (docs/agreement.md): bootstrap resamples, how many disagreements a
# cell lists, how long computed reports are kept, how long a recompute lock lasts.
PARAKH_AGREEMENT_RESAMPLES = env_int("PARAKH_AGREEMENT_RESAMPLES", 1000)
PARAKH_AGREEMENT_TOP_DISAGREEMENTS = 25
PARAKH_AGREEMENT_CACHE_SECONDS = 7 * 24 * 60 * 60
PARAKH_AGREEMENT_LOCK_SECONDS = 15 * 60

# Exports (docs/export.md): samples per chunk (one query for rows, one for ratings), rows
# per Parquet row group, and reader threads that query ahead of the writer (0: none).
PARAKH_EXPORT_CHUNK_SIZE = env_int("PARAKH_EXPORT_CHUNK_SIZE", 2000)
PARAKH_EXPORT_ROW_GROUP_SIZE = env_int("PARAKH_EXPORT_ROW_GROUP_SIZE", 10_000)
PARAKH_EXPORT_READERS = env_int("PARAKH_EXPORT_READERS", 2)

# LLM judges (docs/judges.md): samples per judge_chunk task on the gpu queue.
PARAKH_JUDGE_CHUNK_SIZE = env_int("PARAKH_JUDGE_CHUNK_SIZE", 32)

# Arena rankings (docs/arena.md): online Elo's K and start rating, how many random battle
# orders Elo averages over, and the bootstrap resamples of the intervals (Bradley–Terry's
# are vectorised; each of Elo's replays every battle, hence fewer).
PARAKH_ARENA_ELO_K = float(os.environ.get("PARAKH_ARENA_ELO_K", "4"))
PARAKH_ARENA_START_RATING = float(os.environ.get("PARAKH_ARENA_START_RATING", "1000"))
PARAKH_ARENA_ELO_REPEATS = env_int("PARAKH_ARENA_ELO_REPEATS", 20)
PARAKH_ARENA_RESAMPLES = env_int("PARAKH_ARENA_RESAMPLES", 1000)
PARAKH_ARENA_ELO_RESAMPLES = env_int("PARAKH_ARENA_ELO_RESAMPLES", 100)

# Annotation (docs/annotation.md): how long a pull claim is held without a submit, the cap
# on active seconds one submit may add, and sign-in throttling per username and address.
PARAKH_ANNOTATE_LEASE_SECONDS = env_int("PARAKH_ANNOTATE_LEASE_SECONDS", 30 * 60)
PARAKH_ANNOTATE_ACTIVE_SECONDS_MAX = 60 * 60
PARAKH_LOGIN_MAX_FAILURES = env_int("PARAKH_LOGIN_MAX_FAILURES", 5)
PARAKH_LOGIN_LOCKOUT_SECONDS = env_int("PARAKH_LOGIN_LOCKOUT_SECONDS", 15 * 60)

# Exports (docs/export.md): samples per chunk (one ratings query each) and rows per Parquet
# row group (the most a Parquet writer holds in memory).
PARAKH_EXPORT_CHUNK_SIZE = env_int("PARAKH_EXPORT_CHUNK_SIZE", 2000)
PARAKH_EXPORT_ROW_GROUP_SIZE = env_int("PARAKH_EXPORT_ROW_GROUP_SIZE", 10_000)
