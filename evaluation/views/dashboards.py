"""Staff pages: agreement dashboards (overview grid, one cell's drill-down, judges side by side).

The pages only read cached reports (services.agreement_report_ensure); the figures are
computed on the cpu queue. While a recompute is pending, the report fragment polls itself.
"""

from datetime import datetime

from django import forms
from django.apps import apps
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from parakh.http import HtmxHttpRequest
from synth.languages import LANGUAGE_CHOICES, LANGUAGES
from synth.models import Sample
from synth.task_types import TaskType

from ..models import Judge
from ..selectors.agreement import ALL_LANGUAGES, AgreementFilter, cell_part
from ..services.agreement import agreement_report_ensure


def _batch_model():
    # annotate depends on evaluation, never the reverse: look the model up, do not import it.
    if not apps.is_installed("annotate"):
        return None
    return apps.get_model("annotate", "Batch")


class AgreementFilterForm(forms.Form):
    language = forms.MultipleChoiceField(choices=LANGUAGE_CHOICES, required=False)
    task_type = forms.MultipleChoiceField(choices=TaskType.choices, required=False)
    batch = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    judge = forms.ModelChoiceField(queryset=Judge.objects.all(), required=False)
    rated_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    rated_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        batch = _batch_model()
        choices = [(b.pk, str(b)) for b in batch.objects.order_by("-pk")] if batch else []
        self.fields["batch"].choices = [("", "Any batch"), *choices]
        self.fields["judge"].empty_label = "First judge"

    def agreement_filter(self) -> AgreementFilter:
        """The AgreementFilter of valid data; a batch becomes its sample ids."""
        data = self.cleaned_data
        sample_ids, label = None, ""
        if data.get("batch"):
            batch = _batch_model().objects.get(pk=data["batch"])
            item = apps.get_model("annotate", "BatchItem")
            sample_ids = tuple(item.objects.filter(batch=batch).values_list("sample_id", flat=True))
            label = str(batch)
        return AgreementFilter(
            languages=tuple(data.get("language") or ()),
            task_types=tuple(data.get("task_type") or ()),
            sample_ids=sample_ids,
            rated_from=data.get("rated_from"),
            rated_to=data.get("rated_to"),
            label=label,
        )


def agreement_filter_from_query(query) -> tuple[AgreementFilterForm, AgreementFilter]:
    """The bound form and its filter; an invalid form falls back to no filter at all."""
    form = AgreementFilterForm(query)
    if form.is_valid():
        return form, form.agreement_filter()
    return form, AgreementFilter()


def chosen_judge(form: AgreementFilterForm, judges: list[dict]) -> dict | None:
    """The judge asked for, else the first judge in the report."""
    judge = form.cleaned_data.get("judge") if form.is_valid() else None
    if judge is not None:
        return {"id": judge.pk, "name": judge.name}
    return judges[0] if judges else None


def alpha_band(value: float | None) -> str:
    """Colour class of an alpha: Krippendorff's 0.667 (tentative) and 0.8 (reliable)."""
    if value is None:
        return "band-none"
    if value >= 0.8:
        return "band-high"
    if value >= 0.667:
        return "band-mid"
    return "band-low"


def _state(filters: AgreementFilter, part: str) -> dict:
    state = agreement_report_ensure(filters=filters, part=part)
    data = state["data"]
    state["computed_at"] = datetime.fromisoformat(data["computed_at"]) if data else None
    return state


def _render(request, template: str, partial: str, context: dict) -> HttpResponse:
    if request.htmx:
        return render(request, f"{template}#{partial}", context)
    return render(request, template, context)


@require_GET
@staff_member_required
def overview(request: HtmxHttpRequest) -> HttpResponse:
    form, filters = agreement_filter_from_query(request.GET)
    state = _state(filters, "overview")
    report = state["data"]
    rows, judge = [], None
    if report:
        judge = chosen_judge(form, report["judges"])
        codes = [*report["languages"], ALL_LANGUAGES]
        for code in codes:
            cells = []
            for dimension in report["dimensions"]:
                cell = report["grid"].get(code, {}).get(dimension["slug"])
                judged = cell["judges"].get(str(judge["id"])) if cell and judge else None
                cells.append(
                    {
                        "dimension": dimension,
                        "cell": cell,
                        "band": alpha_band(cell["humans"]["value"] if cell else None),
                        "judge": judged,
                        "judge_band": alpha_band(
                            judged["with_humans"]["value"] if judged else None
                        ),
                    }
                )
            rows.append({"code": code, "language": LANGUAGES.get(code), "cells": cells})
    context = {
        "form": form,
        "state": state,
        "report": report,
        "rows": rows,
        "judge": judge,
        "query": request.GET.urlencode(),
    }
    return _render(request, "evaluation/agreement_overview.html", "report", context)


def _sample_previews(ids: list[int]) -> dict[int, dict]:
    """First user message of each sample, shown with its own language and direction."""
    previews = {}
    for sample in Sample.objects.filter(pk__in=ids).only("pk", "language", "messages"):
        first = next((m["content"] for m in sample.messages if m.get("role") == "user"), "")
        language = LANGUAGES.get(sample.language)
        previews[sample.pk] = {
            "text": first,
            "lang": sample.language,
            "dir": language.direction if language else "ltr",
        }
    return previews


@require_GET
@staff_member_required
def cell(request: HtmxHttpRequest, language: str, dimension: str) -> HttpResponse:
    if language != ALL_LANGUAGES and language not in LANGUAGES:
        raise Http404("Unknown language.")
    form, filters = agreement_filter_from_query(request.GET)
    state = _state(filters, cell_part(language, dimension))
    report = state["data"]
    judge, judged, disagreements = None, None, []
    if report:
        judges = [{"id": int(k), "name": v["name"]} for k, v in report["judges"].items()]
        judge = chosen_judge(form, judges)
        judged = report["judges"].get(str(judge["id"])) if judge else None
        previews = _sample_previews([d["sample"] for d in report["disagreements"]])
        disagreements = [
            {
                **item,
                "preview": previews.get(item["sample"]),
                "judge_value": item["judges"].get(str(judge["id"])) if judge else None,
            }
            for item in report["disagreements"]
        ]
    confusion_rows = []
    if judged:
        peak = max((max(row) for row in judged["confusion"]), default=0) or 1
        confusion_rows = [
            {
                "value": value,
                "cells": [{"count": n, "share": round(n / peak, 2)} for n in row],
            }
            for value, row in zip(report["categories"], judged["confusion"], strict=True)
        ]
    chart, distribution_rows = None, []
    if report:
        distribution_rows = [
            {
                "value": value,
                "humans": report["human_distribution"][i],
                "judge": judged["distribution"][i] if judged else None,
            }
            for i, value in enumerate(report["categories"])
        ]
        chart = {
            "labels": report["categories"],
            "series": [{"label": "Humans", "data": report["human_distribution"]}]
            + ([{"label": judge["name"], "data": judged["distribution"]}] if judged else []),
        }
    context = {
        "form": form,
        "state": state,
        "report": report,
        "language_code": language,
        "language": LANGUAGES.get(language),
        "dimension": dimension,
        "judge": judge,
        "judged": judged,
        "confusion_rows": confusion_rows,
        "disagreements": disagreements,
        "chart": chart,
        "distribution_rows": distribution_rows,
        "query": request.GET.urlencode(),
    }
    return _render(request, "evaluation/agreement_cell.html", "report", context)


@require_GET
@staff_member_required
def judges(request: HtmxHttpRequest) -> HttpResponse:
    form, filters = agreement_filter_from_query(request.GET)
    state = _state(filters, "judges")
    report = state["data"]
    chart = None
    if report:
        chart = {
            "labels": [row["dimension"] for row in report["rows"]],
            "series": [
                {
                    "label": judge["name"],
                    "data": [
                        row["judges"][i]["vs_consensus"]["exact"]
                        if row["judges"][i]["vs_consensus"]
                        else None
                        for row in report["rows"]
                    ],
                }
                for i, judge in enumerate(report["judges"])
            ],
        }
    context = {
        "form": form,
        "state": state,
        "report": report,
        "chart": chart,
        "query": request.GET.urlencode(),
    }
    return _render(request, "evaluation/agreement_judges.html", "report", context)
