"""Forms of the staff pages: input parsing only, the rules live in services."""

from django import forms
from django.contrib.auth import get_user_model

from evaluation.models import Dimension
from synth.languages import LANGUAGE_CHOICES
from synth.models import Sample, Source
from synth.task_types import TaskType

from .models import Batch, Proficiency


class BatchBuildForm(forms.Form):
    name = forms.CharField(max_length=200)
    language = forms.ChoiceField(choices=LANGUAGE_CHOICES)
    task_types = forms.MultipleChoiceField(
        choices=TaskType.choices, required=False, help_text="None chosen: every task type."
    )
    dimensions = forms.ModelMultipleChoiceField(
        queryset=Dimension.objects.filter(is_active=True),
        widget=forms.CheckboxSelectMultiple,
    )
    statuses = forms.MultipleChoiceField(
        choices=Sample.Status.choices, initial=[Sample.Status.PASSED], required=False
    )
    judge_min = forms.FloatField(required=False, label="Mean judge score at least")
    judge_max = forms.FloatField(required=False, label="Mean judge score at most")
    source_kind = forms.ChoiceField(
        choices=[("", "Any"), ("none", "No source"), *Source.Kind.choices], required=False
    )
    size = forms.IntegerField(min_value=1, initial=20)
    overlap = forms.IntegerField(min_value=1, initial=2, label="Overlap k")
    distribution = forms.ChoiceField(choices=Batch.Distribution.choices)
    annotators = forms.ModelMultipleChoiceField(
        queryset=get_user_model().objects.filter(annotator_profile__isnull=False),
        widget=forms.CheckboxSelectMultiple,
    )
    min_proficiency = forms.TypedChoiceField(
        choices=Proficiency.choices, coerce=int, initial=Proficiency.FLUENT
    )
    gold_share = forms.FloatField(min_value=0, max_value=1, initial=0, required=False)
    due = forms.DateTimeField(required=False, widget=forms.DateTimeInput(attrs={"type": "date"}))
    instructions = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    open_now = forms.BooleanField(required=False, initial=True, label="Open at once")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dimensions"].initial = list(
            Dimension.objects.filter(is_active=True, task_types=["*"]).values_list("pk", flat=True)
        )
