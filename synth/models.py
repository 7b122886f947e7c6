"""Sources to ground generation in, model endpoints, generation jobs and their samples."""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from parakh.transitions import RUN_TRANSITIONS, RunStatus

from .languages import LANGUAGE_CHOICES
from .task_types import TaskType

LANGUAGE_CODES = [code for code, _ in LANGUAGE_CHOICES]
MESSAGE_ROLES = ("system", "user", "assistant")
SHA256_HEX = r"^[0-9a-f]{64}$"


def validate_messages(messages: object) -> None:
    """The chat format that the Updesh release and SFT trainers use: [{role, content}]."""
    if not isinstance(messages, list) or not messages:
        raise ValidationError("messages must be a non-empty list of {role, content} objects.")
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or set(message) != {"role", "content"}:
            raise ValidationError(f"message {index} must have exactly the keys role and content.")
        if message["role"] not in MESSAGE_ROLES:
            raise ValidationError(
                f"message {index} has role {message['role']!r}; "
                f"expected one of {', '.join(MESSAGE_ROLES)}."
            )
        if not isinstance(message["content"], str) or not message["content"].strip():
            raise ValidationError(f"message {index} has empty or non-text content.")


def validate_language_list(value: object) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError("Choose at least one language.")
    unknown = [code for code in value if code not in LANGUAGE_CODES]
    if unknown:
        raise ValidationError(f"Unknown language codes: {', '.join(map(str, unknown))}.")


def validate_env_var_name(value: str) -> None:
    if value and not re.fullmatch(r"[A-Z_][A-Z0-9_]*", value):
        raise ValidationError(
            f"{value!r} is not an environment variable name (upper case, digits, underscore)."
        )


def _language_check(field: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{field}__in": LANGUAGE_CODES}),
        name="%(app_label)s_%(class)s_language",
    )


def _choices_check(field: str, choices: type[models.TextChoices]) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{field}__in": choices.values}),
        name=f"%(app_label)s_%(class)s_{field}",
    )


class SourceKind(models.TextChoices):
    WIKIPEDIA = "wikipedia", "Wikipedia passage"
    REASONING = "reasoning", "English reasoning sample"


class Source(models.Model):
    """A text that generation is grounded in, or an English sample to translate."""

    Kind = SourceKind

    kind = models.CharField(max_length=20, choices=Kind.choices)
    language = models.CharField(max_length=8, choices=LANGUAGE_CHOICES, db_index=True)
    title = models.CharField(max_length=500, blank=True)
    text = models.TextField()
    url = models.URLField(max_length=1000, blank=True)
    license = models.CharField(max_length=100, blank=True)
    # Name of the reasoning set's subset (e.g. "analytical_reasoning"); blank for pages.
    subset = models.CharField(max_length=100, blank=True)
    # sha256 of kind, language and text: importing the same file twice adds nothing.
    content_hash = models.CharField(max_length=64, unique=True)
    meta = models.JSONField(default=dict, blank=True)
    is_demo = models.BooleanField(default=False, help_text="Bundled demo data, not real.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["language", "title", "pk"]
        constraints = [
            _language_check("language"),
            _choices_check("kind", SourceKind),
            models.CheckConstraint(
                condition=Q(content_hash__regex=SHA256_HEX),
                name="synth_source_content_hash_hex",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_language_display()}: {self.title or self.text[:60]}"


class ModelEndpointBackend(models.TextChoices):
    VLLM = "vllm", "vLLM offline engine"
    OPENAI = "openai", "OpenAI-compatible server"
    TRANSFORMERS = "transformers", "Hugging Face transformers"


class ModelEndpoint(models.Model):
    """Where a model answers: an offline vLLM engine, an OpenAI-compatible server, or HF."""

    Backend = ModelEndpointBackend

    name = models.CharField(max_length=100, unique=True)
    backend = models.CharField(max_length=20, choices=Backend.choices)
    model = models.CharField(max_length=300, help_text="Model id or local path.")
    base_url = models.URLField(max_length=500, blank=True)
    # The key itself never touches the database: only the name of the variable holding it.
    api_key_env = models.CharField(max_length=100, blank=True, validators=[validate_env_var_name])
    params = models.JSONField(default=dict, blank=True)
    max_concurrency = models.PositiveIntegerField(default=8)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            _choices_check("backend", ModelEndpointBackend),
            models.CheckConstraint(
                condition=Q(max_concurrency__gte=1),
                name="synth_modelendpoint_concurrency_positive",
            ),
            models.CheckConstraint(
                condition=~Q(backend="openai") | ~Q(base_url=""),
                name="synth_modelendpoint_openai_needs_base_url",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.backend}: {self.model})"


class GenerationJob(models.Model):
    Status = RunStatus

    # Legal moves; services refuse anything else (parakh.transitions).
    TRANSITIONS = RUN_TRANSITIONS

    task_type = models.CharField(max_length=40, choices=TaskType.choices)
    languages = models.JSONField(validators=[validate_language_list])
    endpoint = models.ForeignKey(ModelEndpoint, on_delete=models.PROTECT, related_name="jobs")
    template_version = models.CharField(max_length=50)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            _choices_check("status", RunStatus),
            _choices_check("task_type", TaskType),
        ]

    def __str__(self) -> str:
        return f"Job {self.pk}: {self.get_task_type_display()} ({self.status})"


class SampleStatus(models.TextChoices):
    GENERATED = "generated", "Generated, not yet filtered"
    PASSED = "passed", "Passed filters"
    REJECTED = "rejected", "Rejected"


class Sample(models.Model):
    """One generated (or imported) instruction sample in chat format."""

    Status = SampleStatus

    TRANSITIONS = {
        Status.GENERATED: {Status.PASSED, Status.REJECTED},
        # Staff may override a filter's verdict either way; re-filtering also moves these.
        Status.PASSED: {Status.REJECTED},
        Status.REJECTED: {Status.PASSED},
    }

    job = models.ForeignKey(
        GenerationJob,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="samples",
    )
    source = models.ForeignKey(
        Source, null=True, blank=True, on_delete=models.SET_NULL, related_name="samples"
    )
    language = models.CharField(max_length=8, choices=LANGUAGE_CHOICES)
    task_type = models.CharField(max_length=40, choices=TaskType.choices)
    messages = models.JSONField(validators=[validate_messages])
    generator = models.CharField(max_length=300, help_text="The model that wrote the sample.")
    template_version = models.CharField(max_length=50, blank=True)
    params = models.JSONField(default=dict, blank=True)
    content_hash = models.CharField(max_length=64, unique=True)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.GENERATED, db_index=True
    )
    filter_report = models.JSONField(default=dict, blank=True)
    is_demo = models.BooleanField(default=False, help_text="Bundled demo data, not real.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["language", "task_type", "status"])]
        constraints = [
            _language_check("language"),
            _choices_check("status", SampleStatus),
            _choices_check("task_type", TaskType),
            models.CheckConstraint(
                condition=Q(content_hash__regex=SHA256_HEX),
                name="synth_sample_content_hash_hex",
            ),
        ]

    def __str__(self) -> str:
        return f"Sample {self.pk} ({self.language}, {self.task_type})"

    @property
    def prompt(self) -> str:
        """The first user message: what a list shows of the sample."""
        return next((m["content"] for m in self.messages if m["role"] == "user"), "")


class GenerationCall(models.Model):
    """One model call of a generation job that did not end in a sample of its own.

    Holds a multi-phase sample's intermediate outputs (the question before its answer) and
    every failed call, under the call's deterministic key: a retried or redelivered chunk
    finds them here and never repeats a finished call. A successful final phase is the
    Sample itself and is not stored here.
    """

    job = models.ForeignKey(GenerationJob, on_delete=models.CASCADE, related_name="calls")
    source = models.ForeignKey(
        Source, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    key = models.CharField(max_length=64, unique=True)
    language = models.CharField(max_length=8, choices=LANGUAGE_CHOICES)
    phase = models.CharField(max_length=50)
    variant = models.PositiveIntegerField(default=0)
    output = models.TextField(blank=True)
    error = models.TextField(blank=True)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    finish_reason = models.CharField(max_length=20, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["job", "language"])]
        constraints = [
            _language_check("language"),
            models.CheckConstraint(
                condition=Q(key__regex=SHA256_HEX), name="synth_generationcall_key_hex"
            ),
        ]

    def __str__(self) -> str:
        state = "error" if self.error else "ok"
        return f"Call {self.phase}/{self.variant} of job {self.job_id} ({state})"
