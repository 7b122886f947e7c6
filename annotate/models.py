"""Annotators, batches of samples, assignments and the annotations made on them.

Scores and flags are not stored here: they are evaluation.Rating rows with the annotator's
Rater, so that agreement never needs to import this app. What stays here is what only
annotation has: the work plan (batch, assignment) and the comment and time spent.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from evaluation.models import Comparison, Dimension
from synth.languages import LANGUAGE_CHOICES
from synth.models import LANGUAGE_CODES, Sample

ANNOTATORS_GROUP = "annotators"


class Proficiency(models.IntegerChoices):
    # Ordered, so that "at least fluent" is proficiency__gte=FLUENT.
    WORKING = 1, "Working knowledge"
    FLUENT = 2, "Fluent"
    NATIVE = 3, "Native"


class AnnotatorProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="annotator_profile",
    )
    note = models.TextField(blank=True, help_text="Background, region, dialect; staff only.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user__username"]

    def __str__(self) -> str:
        return str(self.user)


class AnnotatorLanguage(models.Model):
    profile = models.ForeignKey(
        AnnotatorProfile, on_delete=models.CASCADE, related_name="languages"
    )
    language = models.CharField(max_length=8, choices=LANGUAGE_CHOICES)
    proficiency = models.PositiveSmallIntegerField(choices=Proficiency.choices)

    class Meta:
        ordering = ["profile", "-proficiency", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "language"], name="annotate_annotatorlanguage_unique"
            ),
            models.CheckConstraint(
                condition=Q(language__in=LANGUAGE_CODES),
                name="annotate_annotatorlanguage_language",
            ),
            models.CheckConstraint(
                condition=Q(proficiency__in=Proficiency.values),
                name="annotate_annotatorlanguage_proficiency",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.language} ({self.get_proficiency_display()})"


class BatchStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class BatchDistribution(models.TextChoices):
    PUSH = "push", "Pre-assigned (push)"
    PULL = "pull", "Claimed on demand (pull)"


class BatchKind(models.TextChoices):
    RATINGS = "ratings", "Rate samples on the rubric"
    PAIRWISE = "pairwise", "Compare two responses"


class Batch(models.Model):
    Status = BatchStatus

    Distribution = BatchDistribution

    Kind = BatchKind

    TRANSITIONS = {
        Status.DRAFT: {Status.OPEN},
        Status.OPEN: {Status.CLOSED},
        Status.CLOSED: {Status.OPEN},  # reopen for late corrections
    }

    name = models.CharField(max_length=200)
    # A ratings batch holds samples, a pairwise batch arena comparisons (evaluation.Comparison).
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.RATINGS)
    language = models.CharField(max_length=8, choices=LANGUAGE_CHOICES)
    dimensions = models.ManyToManyField(Dimension, related_name="batches")
    samples = models.ManyToManyField(Sample, through="BatchItem", related_name="batches")
    # Who may work on the batch: push batches pre-assign among them, pull batches let
    # exactly these people claim.
    annotators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="annotation_batches"
    )
    overlap = models.PositiveSmallIntegerField(
        default=2, help_text="How many annotators rate each item (k)."
    )
    distribution = models.CharField(
        max_length=10, choices=Distribution.choices, default=Distribution.PUSH
    )
    instructions = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    due = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "batches"
        constraints = [
            models.UniqueConstraint(fields=["name"], name="annotate_batch_unique_name"),
            models.CheckConstraint(condition=Q(overlap__gte=1), name="annotate_batch_overlap"),
            models.CheckConstraint(
                condition=Q(status__in=BatchStatus.values), name="annotate_batch_status"
            ),
            models.CheckConstraint(
                condition=Q(distribution__in=BatchDistribution.values),
                name="annotate_batch_distribution",
            ),
            models.CheckConstraint(
                condition=Q(language__in=LANGUAGE_CODES), name="annotate_batch_language"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=BatchKind.values), name="annotate_batch_kind"
            ),
        ]

    def __str__(self) -> str:
        return self.name


# Exactly one of sample (a ratings item) and comparison (a pairwise item) is set.
ONE_UNIT = Q(sample__isnull=False, comparison__isnull=True) | Q(
    sample__isnull=True, comparison__isnull=False
)


class BatchItem(models.Model):
    """A sample or a comparison in a batch; gold items carry expected values as gold
    Ratings (samples) or the gold rater's Preference (comparisons)."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="items")
    sample = models.ForeignKey(
        Sample, null=True, blank=True, on_delete=models.PROTECT, related_name="batch_items"
    )
    comparison = models.ForeignKey(
        Comparison, null=True, blank=True, on_delete=models.PROTECT, related_name="batch_items"
    )
    # Gold items carry expected values as Ratings of evaluation's gold rater.
    is_gold = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["batch", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "sample"], name="annotate_batchitem_unique"),
            models.UniqueConstraint(
                fields=["batch", "comparison"], name="annotate_batchitem_unique_comparison"
            ),
            models.CheckConstraint(condition=ONE_UNIT, name="annotate_batchitem_one_unit"),
        ]

    def __str__(self) -> str:
        if self.comparison_id:
            return f"{self.batch} #{self.position}: comparison {self.comparison_id}"
        return f"{self.batch} #{self.position}: sample {self.sample_id}"


class AssignmentStatus(models.TextChoices):
    ASSIGNED = "assigned", "Assigned"
    SUBMITTED = "submitted", "Submitted"
    SKIPPED = "skipped", "Skipped"
    REVOKED = "revoked", "Revoked"


class Assignment(models.Model):
    Status = AssignmentStatus

    TRANSITIONS = {
        Status.ASSIGNED: {Status.SUBMITTED, Status.SKIPPED, Status.REVOKED},
        # Annotators may revise a submission while the batch is open; the status stays.
        Status.SUBMITTED: {Status.SUBMITTED, Status.REVOKED},
        Status.SKIPPED: {Status.ASSIGNED, Status.SUBMITTED, Status.REVOKED},
        Status.REVOKED: {Status.ASSIGNED},
    }

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="assignments")
    sample = models.ForeignKey(
        Sample, null=True, blank=True, on_delete=models.PROTECT, related_name="assignments"
    )
    comparison = models.ForeignKey(
        Comparison, null=True, blank=True, on_delete=models.PROTECT, related_name="assignments"
    )
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assignments"
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.ASSIGNED, db_index=True
    )
    # Which of the item's k places this assignment holds: unique per (batch, sample) and
    # below the overlap copied here, so the database itself refuses a (k+1)-th annotator.
    # A revoked assignment gives its place back (slot NULL). The default 0 makes a row
    # created without a slot collide with the item's first place instead of slipping past k.
    slot = models.PositiveSmallIntegerField(null=True, blank=True, default=0)
    overlap = models.PositiveSmallIntegerField(default=1)
    # The item's place in the batch (its BatchItem's position, which never changes), copied
    # here so that an annotator's next item is one index scan, not a sort of all they have.
    position = models.PositiveIntegerField(default=0)
    # Pull batches: a claim expires and the item returns to the pool if not submitted.
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    first_served_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    # Server-side: first served → submitted. Active time as reported by the page.
    seconds_spent = models.PositiveIntegerField(default=0)
    active_seconds = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["batch", "pk"]
        indexes = [
            models.Index(
                fields=["batch", "annotator", "status", "position", "id"],
                name="annotate_assignment_next",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "sample", "annotator"],
                name="annotate_assignment_unique",
            ),
            models.UniqueConstraint(
                fields=["batch", "sample", "slot"], name="annotate_assignment_unique_slot"
            ),
            models.UniqueConstraint(
                fields=["batch", "comparison", "annotator"],
                name="annotate_assignment_unique_comparison",
            ),
            models.UniqueConstraint(
                fields=["batch", "comparison", "slot"],
                name="annotate_assignment_unique_comparison_slot",
            ),
            models.CheckConstraint(condition=ONE_UNIT, name="annotate_assignment_one_unit"),
            models.CheckConstraint(
                condition=Q(slot__isnull=True) | Q(slot__lt=F("overlap")),
                name="annotate_assignment_slot_below_overlap",
            ),
            models.CheckConstraint(
                condition=Q(status=AssignmentStatus.REVOKED) | Q(slot__isnull=False),
                name="annotate_assignment_live_holds_slot",
            ),
            models.CheckConstraint(
                condition=Q(status__in=AssignmentStatus.values),
                name="annotate_assignment_status",
            ),
            models.CheckConstraint(
                condition=Q(submitted_at__isnull=True)
                | Q(first_served_at__isnull=True)
                | Q(submitted_at__gte=F("first_served_at")),
                name="annotate_assignment_submitted_after_served",
            ),
        ]

    def __str__(self) -> str:
        if self.comparison_id:
            return f"{self.annotator} · {self.batch} · comparison {self.comparison_id}"
        return f"{self.annotator} · {self.batch} · sample {self.sample_id}"

    @property
    def unit_field(self) -> str:
        """The field naming the item: "comparison" for a pairwise one, else "sample"."""
        return "comparison" if self.comparison_id else "sample"


class Annotation(models.Model):
    """What an annotator wrote besides scores: comment and flags (flags are also Ratings)."""

    assignment = models.OneToOneField(
        Assignment, on_delete=models.CASCADE, related_name="annotation"
    )
    comment = models.TextField(blank=True)
    flags = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return f"Annotation of {self.assignment}"
