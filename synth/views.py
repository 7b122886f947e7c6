"""Staff pages of the synth app: sources by language, generation jobs, the sample browser."""

from django import forms
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from parakh.transitions import FINISHED, DomainError

from .generation import GENERATION_DEFAULTS, TemplateError, template_versions
from .languages import LANGUAGE_CHOICES, LANGUAGES, get_language
from .models import GenerationCall, GenerationJob, ModelEndpoint, Sample, Source
from .services.generation import (
    generation_job_cancel,
    generation_job_create,
    generation_job_resume,
    generation_job_start,
)
from .task_types import TaskType

staff_required = staff_member_required(login_url="login")
PAGE_SIZE = 50


class GenerationJobForm(forms.Form):
    """Input parsing only; the rules live in synth.services.generation."""

    task_type = forms.ChoiceField(choices=TaskType.choices)
    languages = forms.MultipleChoiceField(
        choices=LANGUAGE_CHOICES, widget=forms.CheckboxSelectMultiple
    )
    endpoint = forms.ModelChoiceField(queryset=ModelEndpoint.objects.all())
    template_version = forms.CharField(
        required=False, max_length=50, help_text="Blank: the newest version of the task type."
    )
    temperature = forms.FloatField(min_value=0, max_value=2, initial=1.0)
    top_p = forms.FloatField(min_value=0, max_value=1, initial=0.95)
    max_tokens = forms.IntegerField(min_value=1, required=False, help_text="Blank: template's.")
    samples_per_source = forms.IntegerField(min_value=1, max_value=20, initial=1)
    source_limit = forms.IntegerField(
        min_value=1, required=False, help_text="Most sources per language; blank: all."
    )

    def params(self) -> dict:
        data = self.cleaned_data
        names = ("temperature", "top_p", "max_tokens", "samples_per_source", "source_limit")
        return {name: data[name] for name in names if data.get(name) is not None}


def _language_attrs(code: str) -> dict:
    language = get_language(code)
    return {"code": language.code, "dir": language.direction.value, "name": language.name}


@require_GET
@staff_required
def source_list(request: HttpRequest) -> HttpResponse:
    counts: dict[str, dict[str, int]] = {}
    for row in Source.objects.values("language", "kind").annotate(n=Count("pk")).order_by():
        counts.setdefault(row["language"], {})[row["kind"]] = row["n"]
    rows = [
        {"language": language, "counts": counts[code], "total": sum(counts[code].values())}
        for code, language in LANGUAGES.items()
        if code in counts
    ]
    language = request.GET.get("language", "")
    sources = Source.objects.order_by("-pk")
    if language in LANGUAGES:
        sources = sources.filter(language=language)
    page = Paginator(sources, PAGE_SIZE).get_page(request.GET.get("page"))
    items = [{"source": source, "lang": _language_attrs(source.language)} for source in page]
    context = {
        "rows": rows,
        "page": page,
        "items": items,
        "language": get_language(language).name if language in LANGUAGES else "",
        "query": urlencode({"language": language}) if language in LANGUAGES else "",
    }
    return render(request, "synth/source_list.html", context)


@require_GET
@staff_required
def job_list(request: HttpRequest) -> HttpResponse:
    return _job_list(request, GenerationJobForm(initial={"temperature": 1.0, "top_p": 0.95}))


def _job_list(request: HttpRequest, form: GenerationJobForm, status: int = 200) -> HttpResponse:
    jobs = GenerationJob.objects.select_related("endpoint", "created_by")[:100]
    context = {
        "form": form,
        "jobs": jobs,
        "defaults": GENERATION_DEFAULTS,
        "versions": {task: template_versions(task) for task in TaskType.values},
    }
    return render(request, "synth/job_list.html", context, status=status)


@require_POST
@staff_required
def job_create(request: HttpRequest) -> HttpResponse:
    form = GenerationJobForm(request.POST)
    if not form.is_valid():
        return _job_list(request, form, status=400)
    data = form.cleaned_data
    try:
        job = generation_job_create(
            task_type=data["task_type"],
            languages=data["languages"],
            endpoint=data["endpoint"],
            template_version=data["template_version"],
            params=form.params(),
            created_by=request.user,
        )
        job = generation_job_start(job=job)
    except (TemplateError, DomainError) as error:
        form.add_error(None, str(error))
        return _job_list(request, form, status=400)
    except ValidationError as error:
        form.add_error(None, error)
        return _job_list(request, form, status=400)
    messages.success(request, f"Job {job.pk} started.")
    return redirect("synth:job_detail", pk=job.pk)


@require_GET
@staff_required
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(GenerationJob.objects.select_related("endpoint", "created_by"), pk=pk)
    total = job.counts.get("total", 0)
    done = job.counts.get("samples", 0) + job.counts.get("failed", 0)
    context = {
        "job": job,
        "finished": job.status in FINISHED,
        "done": done,
        "total": total,
        "percent": int(100 * done / total) if total else (100 if job.status in FINISHED else 0),
        "language_rows": [
            {"lang": _language_attrs(code), **entry}
            for code, entry in sorted(job.counts.get("by_language", {}).items())
        ],
        "errors": GenerationCall.objects.filter(job=job)
        .exclude(error="")
        .select_related("source")
        .order_by("-created_at", "-pk")[:20],
    }
    if request.htmx:
        response = render(request, "synth/job_detail.html#job-progress", context)
        if job.status in FINISHED:
            # 286: htmx swaps this last state in and stops polling.
            response.status_code = HttpResponseStopPolling.status_code
        return response
    return render(request, "synth/job_detail.html", context)


@require_POST
@staff_required
def job_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _job_action(request, pk, generation_job_cancel, "cancelled")


@require_POST
@staff_required
def job_resume(request: HttpRequest, pk: int) -> HttpResponse:
    return _job_action(request, pk, generation_job_resume, "resumed")


def _job_action(request: HttpRequest, pk: int, service, done: str) -> HttpResponse:
    job = get_object_or_404(GenerationJob, pk=pk)
    try:
        service(job=job)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Job {job.pk} {done}.")
    return redirect("synth:job_detail", pk=job.pk)


@require_GET
@staff_required
def sample_list(request: HttpRequest) -> HttpResponse:
    filters = {
        "language": request.GET.get("language", ""),
        "task_type": request.GET.get("task_type", ""),
        "status": request.GET.get("status", ""),
        "job": request.GET.get("job", ""),
    }
    samples = Sample.objects.select_related("job", "source").order_by("-pk")
    if filters["language"] in LANGUAGES:
        samples = samples.filter(language=filters["language"])
    if filters["task_type"] in TaskType.values:
        samples = samples.filter(task_type=filters["task_type"])
    if filters["status"] in Sample.Status.values:
        samples = samples.filter(status=filters["status"])
    if filters["job"].isdigit():
        samples = samples.filter(job_id=int(filters["job"]))
    page = Paginator(samples, PAGE_SIZE).get_page(request.GET.get("page"))
    query = urlencode({name: value for name, value in filters.items() if value})
    context = {
        "page": page,
        "items": [{"sample": sample, "lang": _language_attrs(sample.language)} for sample in page],
        "filters": filters,
        "query": query,
        "language_choices": LANGUAGE_CHOICES,
        "task_types": TaskType.choices,
        "statuses": Sample.Status.choices,
    }
    if request.htmx:
        return render(request, "synth/sample_list.html#sample-results", context)
    return render(request, "synth/sample_list.html", context)
