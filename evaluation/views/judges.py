"""Staff pages: LLM judges, their runs (start, live progress, cancel, resume) and, per judge,
score distributions per language × dimension and parse-failure rates per dimension."""

from django import forms
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, HttpResponseStopPolling

from parakh.http import HtmxHttpRequest
from parakh.transitions import FINISHED, DomainError
from synth.languages import LANGUAGE_CHOICES, LANGUAGES
from synth.models import Sample
from synth.task_types import TaskType

from ..models import Dimension, Judge, JudgeRun, Judgment, Rating
from ..services import judge_run_cancel, judge_run_create, judge_run_resume, judge_run_start
from ..services.judging import judge_run_samples

RUNS_LISTED = 20


class JudgeRunForm(forms.Form):
    judge = forms.ModelChoiceField(queryset=Judge.objects.select_related("endpoint"))
    mode = forms.ChoiceField(choices=JudgeRun.Mode.choices, initial=JudgeRun.Mode.SINGLE)
    dimensions = forms.ModelMultipleChoiceField(
        queryset=Dimension.objects.filter(is_active=True),
        widget=forms.CheckboxSelectMultiple,
        to_field_name="slug",
    )
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
    status = forms.MultipleChoiceField(
        choices=Sample.Status.choices,
        required=False,
        initial=[Sample.Status.PASSED],
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every status.",
    )
    batch = forms.IntegerField(required=False, min_value=1, help_text="Only a batch's samples.")

    @property
    def language_options(self) -> list[tuple]:
        return [(checkbox, LANGUAGES[checkbox.data["value"]]) for checkbox in self["languages"]]

    def selection(self) -> dict:
        data = self.cleaned_data
        selection = {key: data[key] for key in ("languages", "task_types", "status") if data[key]}
        if data["batch"]:
            selection["batch"] = data["batch"]
        return selection


def _run_stats(run: JudgeRun) -> list[dict]:
    """Per dimension of the run: judgments of its keys so far, failures, failure rate."""
    samples = judge_run_samples(run=run) if run.counts.get("last_sample_id") is not None else None
    judgments = Judgment.objects.filter(
        judge=run.judge, prompt_version=run.judge.prompt_version, dimension__in=run.dimensions.all()
    )
    if samples is not None:
        judgments = judgments.filter(sample__in=samples)
    return _failure_rows(judgments)


def _failure_rows(judgments) -> list[dict]:
    rows = (
        judgments.values("dimension__slug", "dimension__name")
        .annotate(total=Count("pk"), failed=Count("pk", filter=~Q(error="")))
        .order_by("dimension__position", "dimension__slug")
    )
    return [
        {
            "slug": row["dimension__slug"],
            "name": row["dimension__name"],
            "total": row["total"],
            "failed": row["failed"],
            "rate": row["failed"] / row["total"] if row["total"] else 0.0,
        }
        for row in rows
    ]


def _run_context(run: JudgeRun) -> dict:
    counts = run.counts or {}
    return {
        "run": run,
        "expected": counts.get("expected", 0),
        "done": counts.get("done", 0),
        "failed": counts.get("failed", 0),
        "finished": run.status in FINISHED,
        "stats": _run_stats(run),
    }


def _runs():
    return JudgeRun.objects.select_related("judge", "created_by").prefetch_related("dimensions")


@require_GET
@staff_member_required
def judge_list(request: HttpRequest) -> HttpResponse:
    judges = Judge.objects.select_related("endpoint").annotate(
        judgment_count=Count("judgments", distinct=True),
        failure_count=Count("judgments", filter=~Q(judgments__error=""), distinct=True),
    )
    context = {"judges": judges, "runs": _runs()[:RUNS_LISTED], "form": JudgeRunForm()}
    return render(request, "evaluation/judge_list.html", context)


@require_http_methods(["GET", "POST"])
@staff_member_required
def judge_run_new(request: HtmxHttpRequest) -> HttpResponse:
    form = JudgeRunForm(request.POST or None, initial={"judge": request.GET.get("judge")})
    if request.method == "POST" and form.is_valid():
        try:
            run = judge_run_create(
                judge=form.cleaned_data["judge"],
                dimensions=form.cleaned_data["dimensions"],
                selection=form.selection(),
                mode=form.cleaned_data["mode"],
                created_by=request.user,
            )
            run = judge_run_start(run=run)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            url = redirect("evaluation:judge-run-detail", pk=run.pk).url
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    # htmx swaps only 2xx answers: the form with its errors comes back as a 200 there.
    status = 400 if request.method == "POST" and not request.htmx else 200
    return render(request, "evaluation/judge_run_form.html", {"form": form}, status=status)


@require_GET
@staff_member_required
def judge_run_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The run's page; its progress fragment is polled and answered with 286 once finished."""
    run = get_object_or_404(_runs(), pk=pk)
    context = _run_context(run)
    if not request.htmx:
        return render(request, "evaluation/judge_run_detail.html", context)
    response = render(request, "evaluation/judge_run_detail.html#run-progress", context)
    if context["finished"]:
        stop = HttpResponseStopPolling(response.content)
        stop["Content-Type"] = response["Content-Type"]
        return stop
    return response


def _run_action(request: HtmxHttpRequest, pk: int, action) -> HttpResponse:
    run = get_object_or_404(JudgeRun, pk=pk)
    try:
        run = action(run=run)
    except DomainError as error:
        context = {**_run_context(run), "action_error": str(error)}
        template = "evaluation/judge_run_detail.html"
        if request.htmx:
            template += "#run-progress"
        return render(request, template, context, status=409)
    if request.htmx:
        return render(
            request,
            "evaluation/judge_run_detail.html#run-progress",
            _run_context(get_object_or_404(_runs(), pk=run.pk)),
        )
    return redirect("evaluation:judge-run-detail", pk=run.pk)


@require_POST
@staff_member_required
def judge_run_cancel_view(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _run_action(request, pk, judge_run_cancel)


@require_POST
@staff_member_required
def judge_run_resume_view(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _run_action(request, pk, judge_run_resume)


def _distributions(judge: Judge) -> list[dict]:
    """Per (language, dimension): how many of the judge's ratings have each human value."""
    rows = (
        Rating.objects.filter(rater__judge=judge)
        .values("sample__language", "dimension_id", "value")
        .annotate(n=Count("pk"))
        .order_by()
    )
    dimensions = {d.pk: d for d in Dimension.objects.filter(ratings__rater__judge=judge).distinct()}
    cells: dict[tuple, dict[int, int]] = {}
    for row in rows:
        key = (row["sample__language"], row["dimension_id"])
        cells.setdefault(key, {})[row["value"]] = row["n"]
    table = []
    for (code, dimension_id), counts in sorted(
        cells.items(), key=lambda item: (item[0][0], dimensions[item[0][1]].position)
    ):
        dimension = dimensions[dimension_id]
        total = sum(counts.values())
        table.append(
            {
                "language": LANGUAGES[code],
                "dimension": dimension,
                "total": total,
                "values": [
                    {"value": v, "n": counts.get(v, 0), "share": counts.get(v, 0) / total}
                    for v in dimension.scale
                ],
                "mean": sum(v * n for v, n in counts.items()) / total,
            }
        )
    return table


@require_GET
@staff_member_required
def judge_detail(request: HttpRequest, pk: int) -> HttpResponse:
    judge = get_object_or_404(Judge.objects.select_related("endpoint"), pk=pk)
    judgments = Judgment.objects.filter(judge=judge, prompt_version=judge.prompt_version)
    context = {
        "judge": judge,
        "distributions": _distributions(judge),
        "failures": _failure_rows(judgments),
        "runs": _runs().filter(judge=judge)[:RUNS_LISTED],
    }
    return render(request, "evaluation/judge_detail.html", context)
