"""Staff pages: exports of the agreed subset (choose criteria, start, watch, download)."""

from django import forms
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling, reswap, retarget, trigger_client_event

from parakh.http import HtmxHttpRequest
from synth.languages import LANGUAGE_CHOICES, LANGUAGES
from synth.task_types import TaskType

from ..export import EXPORT_FORMATS, MANIFEST_NAME, ExportCriteria
from ..models import Dimension, Export, Judge
from ..services import export_create, export_directory

FORMAT_CHOICES = [
    ("jsonl", "JSONL"),
    ("parquet", "Parquet"),
    ("updesh", "Updesh_beta layout (config per task type, split per language)"),
]
LIST_LENGTH = 50


class ExportForm(forms.Form):
    dimensions = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple)
    languages = forms.MultipleChoiceField(
        choices=LANGUAGE_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every language.",
    )
    task_types = forms.MultipleChoiceField(
        choices=TaskType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every task type.",
    )
    min_human_ratings = forms.IntegerField(min_value=1, max_value=1000, initial=2)
    max_spread = forms.IntegerField(
        min_value=0, max_value=1000, initial=1, help_text="Largest max − min of the humans."
    )
    judge = forms.ChoiceField(required=False, help_text="Also require this judge to agree.")
    judge_tolerance = forms.IntegerField(min_value=0, max_value=1000, initial=1)
    exclude_flagged = forms.BooleanField(required=False, initial=True)
    include_rejected = forms.BooleanField(required=False, initial=False)
    formats = forms.MultipleChoiceField(
        choices=FORMAT_CHOICES, initial=list(EXPORT_FORMATS), widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.rubric = list(Dimension.objects.filter(kind=Dimension.Kind.RUBRIC, is_active=True))
        self.fields["dimensions"].choices = [(d.slug, d.name) for d in self.rubric]
        self.fields["judge"].choices = [("", "No judge")] + [
            (name, name) for name in Judge.objects.values_list("name", flat=True)
        ]
        for dimension in self.rubric:
            self.fields[f"min_{dimension.slug}"] = forms.IntegerField(
                label=f"Lowest {dimension.name}",
                required=False,
                min_value=dimension.scale_min,
                max_value=dimension.scale_max,
            )

    @property
    def language_options(self) -> list[tuple]:
        """(checkbox, Language) pairs, so that each native name carries its lang and dir."""
        return [(checkbox, LANGUAGES[checkbox.data["value"]]) for checkbox in self["languages"]]

    @property
    def min_score_fields(self) -> list:
        return [self[f"min_{dimension.slug}"] for dimension in self.rubric]

    def criteria(self) -> ExportCriteria:
        data = self.cleaned_data
        chosen = data["dimensions"]
        return ExportCriteria(
            dimensions=tuple(chosen),
            languages=tuple(data["languages"]),
            task_types=tuple(data["task_types"]),
            min_human_ratings=data["min_human_ratings"],
            max_spread=data["max_spread"],
            # A minimum typed for a dimension that is not ticked has nothing to apply to.
            min_scores={
                slug: data[f"min_{slug}"] for slug in chosen if data[f"min_{slug}"] is not None
            },
            judge=data["judge"],
            judge_tolerance=data["judge_tolerance"],
            exclude_flagged=data["exclude_flagged"],
            include_rejected=data["include_rejected"],
        )


def _page(request, form: ExportForm, *, status: int = 200) -> HttpResponse:
    exports = Export.objects.select_related("created_by")[:LIST_LENGTH]
    return render(
        request, "evaluation/exports.html", {"form": form, "exports": exports}, status=status
    )


@require_GET
@staff_member_required
def export_list(request: HtmxHttpRequest) -> HttpResponse:
    if request.htmx:
        exports = Export.objects.select_related("created_by")[:LIST_LENGTH]
        return render(request, "evaluation/exports.html#export-list", {"exports": exports})
    return _page(request, ExportForm())


@require_POST
@staff_member_required
def export_start(request: HtmxHttpRequest) -> HttpResponse:
    form = ExportForm(request.POST)
    if form.is_valid():
        try:
            export_create(
                criteria=form.criteria(),
                formats=form.cleaned_data["formats"],
                created_by=request.user,
            )
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                form.add_error(field if field in form.fields else None, messages)
    if form.errors:
        if request.htmx:
            # htmx swaps only 2xx answers: the form comes back in place with its errors.
            response = render(request, "evaluation/exports.html#export-form", {"form": form})
            return reswap(retarget(response, "#export-form"), "outerHTML")
        return _page(request, form, status=400)
    if request.htmx:
        exports = Export.objects.select_related("created_by")[:LIST_LENGTH]
        response = render(request, "evaluation/exports.html#export-list", {"exports": exports})
        return trigger_client_event(response, "exportStarted")
    return redirect("evaluation:export-list")


@require_GET
@staff_member_required
def export_row(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """One export's row; polled while it runs, answered with 286 (stop) once finished."""
    export = get_object_or_404(Export.objects.select_related("created_by"), pk=pk)
    if not request.htmx:
        return redirect(f"{redirect('evaluation:export-list').url}#export-{export.pk}")
    response = render(request, "evaluation/exports.html#export-row", {"export": export})
    if export.is_finished:
        stop = HttpResponseStopPolling(response.content)
        stop["Content-Type"] = response["Content-Type"]
        return stop
    return response


@require_GET
@staff_member_required
def export_download(request, pk: int, name: str) -> FileResponse:
    """A file of a completed export, streamed. Only names the export recorded are served,
    so no path from the URL ever reaches the file system unchecked."""
    export = get_object_or_404(Export, pk=pk, status=Export.Status.COMPLETED)
    recorded = {entry["name"] for entry in export.files} | {MANIFEST_NAME}
    if name not in recorded:
        raise Http404("No such file in this export.")
    path = export_directory(export=export) / name
    if not path.is_file():
        raise Http404("The file is gone from the server.")
    return FileResponse(
        path.open("rb"), as_attachment=True, filename=f"export-{export.pk}-{name.replace('/', '-')}"
    )
