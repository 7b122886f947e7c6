"""Rubric dimensions, LLM judges, and the one Rating table that every score lands in."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Greatest, Least

from parakh.transitions import RUN_TRANSITIONS, RunStatus
from synth.languages import LANGUAGE_CHOICES
from synth.models import LANGUAGE_CODES, ModelEndpoint, Sample
from synth.task_types import TaskType


def validate_task_types(value: object) -> None:
    """A list of task type slugs, or ["*"] for every task type."""
    if value == ["*"]:
        return
    if not isinstance(value, list) or not value:
        raise ValidationError('task_types must be ["*"] or a non-empty list of task types.')
    unknown = [slug for slug in value if slug not in TaskType.values]
    if unknown:
        raise ValidationError(f"Unknown task types: {', '.join(map(str, unknown))}.")


class DimensionLevel(models.TextChoices):
    NOMINAL = "nominal", "Nominal"
    ORDINAL = "ordinal", "Ordinal"
    INTERVAL = "interval", "Interval"
    RATIO = "ratio", "Ratio"


class DimensionKind(models.TextChoices):
    RUBRIC = "rubric", "Rubric dimension"
    FLAG = "flag", "Flag"


class Dimension(models.Model):
    """One thing a rater scores. Every rubric dimension is oriented so that the highest value
    is best (toxicity 2 = not toxic); flags are binary nominal dimensions (1 = present)."""

    Level = DimensionLevel

    Kind = DimensionKind

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.RUBRIC)
    guidelines = models.TextField()
    # {"0": "what a 0 looks like", ...}: one anchor per value of the scale.
    anchors = models.JSONField(default=dict)
    scale_min = models.SmallIntegerField(default=0)
    scale_max = models.SmallIntegerField(default=2)
    level = models.CharField(max_length=10, choices=Level.choices, default=Level.ORDINAL)
    task_types = models.JSONField(default=list, validators=[validate_task_types])
    # The scale an LLM judge answers on, when it differs from the human one (the paper's
    # humans used 0–2, its judge 1–5). Blank: the judge uses the human scale and anchors.
    judge_scale_min = models.SmallIntegerField(null=True, blank=True)
    judge_scale_max = models.SmallIntegerField(null=True, blank=True)
    # {"<judge value>": <human value>} for every judge value; agreement uses human values.
    judge_scale_map = models.JSONField(default=dict, blank=True)
    # {"<judge value>": "what it looks like"}, shown to the judge instead of ``anchors``.
    judge_anchors = models.JSONField(default=dict, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "slug"]
        constraints = [
            models.CheckConstraint(
                condition=Q(scale_max__gt=models.F("scale_min")),
                name="evaluation_dimension_scale_ordered",
            ),
            models.CheckConstraint(
                condition=Q(level__in=DimensionLevel.values),
                name="evaluation_dimension_level",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=DimensionKind.values),
                name="evaluation_dimension_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def scale(self) -> range:
        return range(self.scale_min, self.scale_max + 1)

    def applies_to(self, task_type: str) -> bool:
        return self.task_types == ["*"] or task_type in self.task_types

    def clean(self) -> None:
        if self.scale_max is None or self.scale_min is None:
            return
        expected = {str(value) for value in self.scale}
        if self.anchors and set(self.anchors) != expected:
            raise ValidationError(
                {"anchors": f"Anchors must describe exactly the values {sorted(expected)}."}
            )
        self._clean_judge_scale()

    @property
    def has_judge_scale(self) -> bool:
        return self.judge_scale_min is not None and self.judge_scale_max is not None

    @property
    def judge_scale(self) -> range:
        if not self.has_judge_scale:
            return self.scale
        return range(self.judge_scale_min, self.judge_scale_max + 1)

    def _clean_judge_scale(self) -> None:
        if (self.judge_scale_min is None) != (self.judge_scale_max is None):
            raise ValidationError("Set both ends of the judge scale, or neither.")
        if not self.has_judge_scale:
            if self.judge_scale_map or self.judge_anchors:
                raise ValidationError(
                    {"judge_scale_map": "A mapping or judge anchors need a judge scale."}
                )
            return
        if self.judge_scale_max <= self.judge_scale_min:
            raise ValidationError({"judge_scale_max": "The judge scale must go upwards."})
        judge_values = {str(value) for value in self.judge_scale}
        if set(self.judge_scale_map) != judge_values:
            raise ValidationError(
                {"judge_scale_map": f"Map exactly the judge values {sorted(judge_values)}."}
            )
        outside = [
            value
            for value in self.judge_scale_map.values()
            if not isinstance(value, int) or value not in self.scale
        ]
        if outside:
            raise ValidationError(
                {"judge_scale_map": f"{outside} are not values of the human scale."}
            )
        if self.judge_anchors and set(self.judge_anchors) != judge_values:
            raise ValidationError(
                {"judge_anchors": f"Describe exactly the judge values {sorted(judge_values)}."}
            )


class Judge(models.Model):
    """An LLM judge: a model endpoint, a prompt version and sampling parameters."""

    name = models.CharField(max_length=100, unique=True)
    endpoint = models.ForeignKey(ModelEndpoint, on_delete=models.PROTECT, related_name="judges")
    prompt_version = models.CharField(max_length=50)
    # Temperature 0 unless a run says otherwise: a judge should be repeatable.
    params = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class JudgeRunMode(models.TextChoices):
    SINGLE = "single", "One call per dimension"
    ALL = "all", "All dimensions in one call"


class JudgeRun(models.Model):
    Status = RunStatus

    Mode = JudgeRunMode

    TRANSITIONS = RUN_TRANSITIONS

    judge = models.ForeignKey(Judge, on_delete=models.PROTECT, related_name="runs")
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.SINGLE)
    dimensions = models.ManyToManyField(Dimension, related_name="judge_runs")
    # Which samples: {"languages": [...], "task_types": [...], "status": [...], "batch": id}.
    selection = models.JSONField(default=dict, blank=True)
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
            models.CheckConstraint(
                condition=Q(status__in=RunStatus.values),
                name="evaluation_judgerun_status",
            ),
            models.CheckConstraint(
                condition=Q(mode__in=JudgeRunMode.values),
                name="evaluation_judgerun_mode",
            ),
        ]

    def __str__(self) -> str:
        return f"Run {self.pk} of {self.judge} ({self.status})"


class Judgment(models.Model):
    """One judge's answer on one sample and dimension: the raw output is always kept, so a
    parse failure can be inspected and counted; a Rating exists only for a valid answer."""

    run = models.ForeignKey(
        JudgeRun,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="judgments",
    )
    judge = models.ForeignKey(Judge, on_delete=models.PROTECT, related_name="judgments")
    sample = models.ForeignKey(Sample, on_delete=models.CASCADE, related_name="judgments")
    dimension = models.ForeignKey(Dimension, on_delete=models.PROTECT, related_name="judgments")
    prompt_version = models.CharField(max_length=50)
    raw_output = models.TextField(blank=True)
    parsed = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["judge", "sample", "dimension", "prompt_version"],
                name="evaluation_judgment_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.judge} on {self.sample_id}/{self.dimension_id}"

    @property
    def succeeded(self) -> bool:
        return self.parsed is not None and not self.error


class RaterKind(models.TextChoices):
    HUMAN = "human", "Human annotator"
    LLM = "llm", "LLM judge"
    GOLD = "gold", "Gold standard"
    ADJUDICATED = "adjudicated", "Adjudicated"


class Rater(models.Model):
    """Who gave a Rating: a person, an LLM judge, the gold standard, or an adjudication."""

    Kind = RaterKind

    kind = models.CharField(max_length=20, choices=Kind.choices)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rater",
    )
    judge = models.OneToOneField(
        Judge, null=True, blank=True, on_delete=models.PROTECT, related_name="rater"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=RaterKind.values), name="evaluation_rater_kind"
            ),
            # A human rater is a user, an LLM rater is a judge, gold/adjudicated are neither.
            models.CheckConstraint(
                condition=(
                    Q(kind="human", user__isnull=False, judge__isnull=True)
                    | Q(kind="llm", judge__isnull=False, user__isnull=True)
                    | Q(
                        kind__in=["gold", "adjudicated"],
                        user__isnull=True,
                        judge__isnull=True,
                    )
                ),
                name="evaluation_rater_identity_matches_kind",
            ),
            # Exactly one gold and one adjudicated rater for the whole installation.
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(kind__in=["gold", "adjudicated"]),
                name="evaluation_rater_single_gold_and_adjudicated",
            ),
        ]

    def __str__(self) -> str:
        if self.kind == self.Kind.HUMAN:
            return f"human:{self.user}"
        if self.kind == self.Kind.LLM:
            return f"llm:{self.judge}"
        return self.kind


class Rating(models.Model):
    """Every judgment of a sample on a dimension: an annotator's score or flag, a judge's
    score, a gold item's expected value, or an adjudicated final value.

    The database refuses a second rating of the same (sample, dimension, rater) and a value
    outside the dimension's scale (a trigger, see migration 0002).
    """

    sample = models.ForeignKey(Sample, on_delete=models.CASCADE, related_name="ratings")
    dimension = models.ForeignKey(Dimension, on_delete=models.PROTECT, related_name="ratings")
    rater = models.ForeignKey(Rater, on_delete=models.PROTECT, related_name="ratings")
    value = models.SmallIntegerField()
    rationale = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sample", "dimension", "rater"]
        indexes = [
            models.Index(fields=["dimension", "sample"]),
            # The dashboards' freshness check is Max(updated_at) over every rating.
            models.Index(fields=["updated_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["sample", "dimension", "rater"], name="evaluation_rating_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.rater} rated {self.sample_id} {self.dimension_id}={self.value}"

    def clean(self) -> None:
        if self.dimension_id is not None and self.value is not None:
            dimension = self.dimension
            if not dimension.scale_min <= self.value <= dimension.scale_max:
                raise ValidationError(
                    {
                        "value": f"{self.value} is outside {dimension.slug}'s scale "
                        f"{dimension.scale_min}–{dimension.scale_max}."
                    }
                )


EXPORT_FORMATS = ("jsonl", "parquet", "updesh")


def validate_export_formats(value: object) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError(f"Choose at least one format: {', '.join(EXPORT_FORMATS)}.")
    unknown = [name for name in value if name not in EXPORT_FORMATS]
    if unknown:
        raise ValidationError(
            f"Unknown export formats: {', '.join(map(str, unknown))}; "
            f"expected {', '.join(EXPORT_FORMATS)}."
        )


class Export(models.Model):
    """One export of the agreed subset: its criteria, where its files are and how it went.

    criteria is evaluation.export.ExportCriteria.to_dict(); files lists each written file
    as {"name", "bytes", "sha256"} with name relative to directory (under MEDIA_ROOT).
    """

    Status = RunStatus

    TRANSITIONS = RUN_TRANSITIONS

    criteria = models.JSONField()
    formats = models.JSONField(validators=[validate_export_formats])
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    # {"samples": n, "languages": {code: n}, "task_types": {slug: n}}
    counts = models.JSONField(default=dict, blank=True)
    # {"scanned": n, "total": n, "exported": n}, updated once per chunk while running.
    progress = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    directory = models.CharField(max_length=300, blank=True)
    files = models.JSONField(default=list, blank=True)
    manifest_path = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=RunStatus.values),
                name="evaluation_export_status",
            ),
        ]

    def __str__(self) -> str:
        return f"Export {self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in {RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED}


# ---------------------------------------------------------------------------- arena


class ArenaPrompt(models.Model):
    """A question that models answer and raters compare the answers to."""

    external_id = models.CharField(max_length=200, unique=True)
    language = models.CharField(max_length=8, choices=LANGUAGE_CHOICES)
    domain = models.CharField(max_length=100, blank=True)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(language__in=LANGUAGE_CODES), name="evaluation_arenaprompt_language"
            ),
        ]

    def __str__(self) -> str:
        return self.external_id


class ArenaResponse(models.Model):
    """One model's answer to an arena prompt."""

    prompt = models.ForeignKey(ArenaPrompt, on_delete=models.CASCADE, related_name="responses")
    model_name = models.CharField(max_length=200)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["prompt", "model_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["prompt", "model_name"], name="evaluation_arenaresponse_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model_name} on {self.prompt}"


class Comparison(models.Model):
    """Two responses to the same prompt. Positions were drawn at random when it was made:
    ``response_a`` is the one shown first (on the left, position A)."""

    prompt = models.ForeignKey(ArenaPrompt, on_delete=models.CASCADE, related_name="comparisons")
    response_a = models.ForeignKey(ArenaResponse, on_delete=models.CASCADE, related_name="+")
    response_b = models.ForeignKey(ArenaResponse, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(response_a=models.F("response_b")),
                name="evaluation_comparison_two_responses",
            ),
            # One comparison per unordered pair: (x, y) and (y, x) are the same pair.
            models.UniqueConstraint(
                Least("response_a", "response_b"),
                Greatest("response_a", "response_b"),
                name="evaluation_comparison_unique_pair",
            ),
        ]

    def __str__(self) -> str:
        return f"Comparison {self.pk} on {self.prompt_id}"

    def clean(self) -> None:
        if self.response_a_id and self.response_b_id and self.prompt_id:
            prompts = {self.response_a.prompt_id, self.response_b.prompt_id}
            if prompts != {self.prompt_id}:
                raise ValidationError("Both responses must answer the comparison's prompt.")


class PreferenceOutcome(models.TextChoices):
    WIN = "win", "One response is better"
    TIE = "tie", "Tie"
    BOTH_BAD = "both_bad", "Both bad"


class Preference(models.Model):
    """One rater's verdict on a comparison, in terms of the responses (``winner``), never
    of positions; ``shown_first`` records which response that rater saw in position A
    (blank for a judge asked in both orders)."""

    Outcome = PreferenceOutcome

    comparison = models.ForeignKey(Comparison, on_delete=models.CASCADE, related_name="preferences")
    rater = models.ForeignKey(Rater, on_delete=models.PROTECT, related_name="preferences")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    winner = models.ForeignKey(
        ArenaResponse, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    shown_first = models.ForeignKey(
        ArenaResponse, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    rationale = models.TextField(blank=True)
    # A judge's answers per order and its raw replies, kept for inspection.
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["comparison", "rater"]
        constraints = [
            models.UniqueConstraint(
                fields=["comparison", "rater"], name="evaluation_preference_unique"
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=PreferenceOutcome.values),
                name="evaluation_preference_outcome",
            ),
            models.CheckConstraint(
                condition=Q(outcome="win", winner__isnull=False)
                | (~Q(outcome="win") & Q(winner__isnull=True)),
                name="evaluation_preference_winner_iff_win",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rater} on comparison {self.comparison_id}: {self.outcome}"

    def clean(self) -> None:
        if self.comparison_id is None:
            return
        pair = {self.comparison.response_a_id, self.comparison.response_b_id}
        for name in ("winner", "shown_first"):
            value = getattr(self, f"{name}_id")
            if value is not None and value not in pair:
                raise ValidationError({name: "Not one of the comparison's two responses."})
