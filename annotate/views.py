"""The annotator's scoring pages, the staff's batch pages, and a throttled sign-in."""

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import (
    HttpResponseClientRedirect,
    HttpResponseStopPolling,
    push_url,
    trigger_client_event,
)

from evaluation.models import Dimension
from parakh.transitions import DomainError
from synth.languages import LANGUAGES, get_language, script_share
from synth.selectors import demo_sample_count, sample_counts_by_language

from . import selectors, services
from .forms import BatchBuildForm
from .models import Assignment, Batch

staff_required = staff_member_required(login_url="login")


# --- annotator pages ---------------------------------------------------------------------


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    context = {
        "batches": selectors.batch_progress_for_annotator(user=request.user),
        "demo_samples": demo_sample_count(),
    }
    if request.user.is_staff:
        counts = sample_counts_by_language()
        context["language_rows"] = [
            {
                "language": language,
                "counts": counts.get(code, {}),
                "total": sum(counts.get(code, {}).values()),
            }
            for code, language in LANGUAGES.items()
        ]
    return render(request, "annotate/home.html", context)


def _next_assignment(request: HttpRequest, batch: Batch) -> Assignment | None:
    if batch.status != Batch.Status.OPEN:
        return None
    if batch.distribution == Batch.Distribution.PULL:
        try:
            return services.assignment_claim(batch=batch, annotator=request.user)
        except services.BatchError as error:
            messages.error(request, str(error))
            return None
    return selectors.assignment_next_for(annotator=request.user, batch=batch)


@require_GET
@login_required
def batch_next(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Continue": the next item, or the list of my items when none is left."""
    batch = selectors.access_batch(user=request.user, pk=pk)
    assignment = _next_assignment(request, batch)
    if assignment is not None:
        return redirect("annotate:item", pk=assignment.pk)
    return render(
        request,
        "annotate/batch_mine.html",
        {
            "batch": batch,
            "language": get_language(batch.language),
            "progress": selectors.batch_progress_of(batch=batch, user=request.user),
            "assignments": selectors.assignment_list_for(annotator=request.user, batch=batch),
        },
    )


def _text_language(text: str, default: str):
    # Translation tasks mix languages in one sample: an English prompt is marked English.
    language = get_language(default)
    share = script_share(text, language)
    if language.code != "en" and share is not None and share < 0.3:
        english = LANGUAGES["en"]
        if (script_share(text, english) or 0) > 0.5:
            return english
    return language


def _item_context(request: HttpRequest, assignment: Assignment, *, posted=None, errors=()):
    sample = assignment.sample
    batch = assignment.batch
    rubric, flags = services.item_dimensions(batch=batch, task_type=sample.task_type)
    if posted is None:
        annotation = getattr(assignment, "annotation", None)
        # Values are prefilled only where this assignment was submitted: an item not yet
        # scored here starts blank, even if the annotator rated its sample in another batch
        # (and no query is spent on a fresh item, the common case).
        values = selectors.ratings_of(user=request.user, sample=sample) if annotation else {}
        comment = getattr(annotation, "comment", "")
        raised = {d.slug for d in flags if values.get(d.slug) == 1}
    else:
        values = {d.slug: posted.get(f"score-{d.slug}") for d in rubric}
        values = {slug: int(v) for slug, v in values.items() if v and v.lstrip("-").isdigit()}
        comment = posted.get("comment", "")
        raised = set(posted.getlist("flags"))
    source = sample.source
    return {
        "assignment": assignment,
        "batch": batch,
        "sample": sample,
        "language": get_language(sample.language),
        "messages_shown": [
            {
                "role": message["role"],
                "content": message["content"],
                "language": _text_language(message["content"], sample.language),
            }
            for message in sample.messages
        ],
        "source": source,
        "source_language": get_language(source.language) if source else None,
        "dimensions": [
            {
                "dimension": d,
                "value": values.get(d.slug),
                "levels": [
                    (value, d.anchors.get(str(value), ""), value == values.get(d.slug))
                    for value in d.scale
                ],
            }
            for d in rubric
        ],
        "flags": [(d, d.slug in raised) for d in flags],
        "comment": comment,
        "errors": list(errors),
        "progress": selectors.item_progress(assignment=assignment, user=request.user),
        "can_change": batch.status == Batch.Status.OPEN
        and assignment.status != Assignment.Status.REVOKED,
    }


def _scores(post) -> dict[str, int]:
    scores = {}
    for key, value in post.items():
        if key.startswith("score-") and value.lstrip("-").isdigit():
            scores[key.removeprefix("score-")] = int(value)
    return scores


def _active_seconds(post) -> int:
    value = post.get("active_seconds", "0")
    # The page's own count; capped so a tab left open for a day cannot distort medians.
    cap = getattr(settings, "PARAKH_ANNOTATE_ACTIVE_SECONDS_MAX", 3600)
    return min(int(value), cap) if value.isdigit() else 0


def _compare_context(request: HttpRequest, assignment: Assignment, *, posted=None, errors=()):
    """A pairwise item: the prompt and the two responses, response_a in position A."""
    comparison = assignment.comparison
    batch = assignment.batch
    language = comparison.prompt.language
    if posted is None:
        preference = comparison.preferences.filter(rater__user=request.user).first()
        comment = getattr(getattr(assignment, "annotation", None), "comment", "")
    else:
        preference, comment = None, posted.get("comment", "")
    chosen = ""
    if preference is not None:
        chosen = {"tie": "t", "both_bad": "n"}.get(preference.outcome) or (
            "a" if preference.winner_id == comparison.response_a_id else "b"
        )
    return {
        "assignment": assignment,
        "batch": batch,
        "comparison": comparison,
        "language": get_language(language),
        "prompt_language": _text_language(comparison.prompt.text, language),
        "responses": [
            ("a", comparison.response_a, _text_language(comparison.response_a.text, language)),
            ("b", comparison.response_b, _text_language(comparison.response_b.text, language)),
        ],
        "chosen": chosen,
        "comment": comment,
        "errors": list(errors),
        "progress": selectors.item_progress(assignment=assignment, user=request.user),
        "can_change": batch.status == Batch.Status.OPEN
        and assignment.status != Assignment.Status.REVOKED,
    }


def _panel(request: HttpRequest, assignment: Assignment, **kwargs) -> tuple[str, dict]:
    """The template and context of an item's page, by the kind of item."""
    if assignment.comparison_id:
        return "annotate/compare.html", _compare_context(request, assignment, **kwargs)
    return "annotate/item.html", _item_context(request, assignment, **kwargs)


def _submission(post) -> dict:
    """What a submit of the item page sends, as ``services.assignment_submit`` takes it."""
    return {
        "skip": post.get("action") == "skip",
        "scores": _scores(post),
        "flags": post.getlist("flags"),
        "choice": post.get("choice", ""),
        "comment": post.get("comment", "").strip(),
        "active_seconds": _active_seconds(post),
    }


@require_http_methods(["GET", "POST"])
@login_required
def item(request: HttpRequest, pk: int) -> HttpResponse:
    """The scoring (or comparison) page; a POST saves or skips and answers with the next
    item."""
    if request.method == "GET":
        assignment = selectors.access_assignment(user=request.user, pk=pk)
        services.assignment_serve(assignment=assignment)
        return render(request, *_panel(request, assignment))
    try:
        assignment = services.assignment_submit(
            assignment_id=pk, annotator_id=request.user.pk, **_submission(request.POST)
        )
    except Assignment.DoesNotExist:
        raise Http404("No such assignment.") from None
    except DomainError as error:
        assignment = selectors.access_assignment(user=request.user, pk=pk)
        template, context = _panel(request, assignment, posted=request.POST, errors=[error])
        if request.htmx:
            # htmx swaps only 2xx answers: the form comes back with its error in place.
            return render(request, f"{template}#item-panel", context)
        return render(request, template, context, status=422)
    following = _next_assignment(request, assignment.batch)
    if not request.htmx:
        if following is not None:
            return redirect("annotate:item", pk=following.pk)
        return redirect("annotate:batch_next", pk=assignment.batch_id)
    if following is None:
        return HttpResponseClientRedirect(
            reverse("annotate:batch_next", args=[assignment.batch_id])
        )
    if assignment.batch.distribution == Batch.Distribution.PULL:
        # A claim returns the bare row; a push batch's next item comes with its page.
        following = selectors.access_assignment(
            user=request.user, pk=following.pk, batch=assignment.batch
        )
    services.assignment_serve(assignment=following)
    template, context = _panel(request, following)
    response = render(request, f"{template}#item-panel", context)
    push_url(response, reverse("annotate:item", args=[following.pk]))
    trigger_client_event(response, "ratingSaved", {"assignment": assignment.pk})
    return response


# --- sign-in with a throttle ---------------------------------------------------------------


def _login_key(request: HttpRequest) -> str:
    username = request.POST.get("username", "").strip().lower()
    return f"annotate:login-failures:{username}:{request.META.get('REMOTE_ADDR', '')}"


@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    """Django's LoginView behind a per-(username, IP) failure counter in the cache.

    After PARAKH_LOGIN_MAX_FAILURES failed attempts the pair is locked out for
    PARAKH_LOGIN_LOCKOUT_SECONDS, successful or not; a success clears the counter.
    """
    view = auth_views.LoginView.as_view()
    if request.method != "POST":
        return view(request)
    limit = getattr(settings, "PARAKH_LOGIN_MAX_FAILURES", 5)
    lockout = getattr(settings, "PARAKH_LOGIN_LOCKOUT_SECONDS", 15 * 60)
    key = _login_key(request)
    if cache.get(key, 0) >= limit:
        response = render(
            request, "annotate/login_locked.html", {"minutes": max(1, lockout // 60)}, status=429
        )
        response["Retry-After"] = str(lockout)
        return response
    response = view(request)
    if response.status_code == 302:
        cache.delete(key)
    else:
        # add() then incr(): the counter starts its lockout window at the first failure.
        cache.add(key, 0, timeout=lockout)
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout=lockout)
    return response


# --- staff pages ---------------------------------------------------------------------------


@require_GET
@staff_required
def batch_list(request: HttpRequest) -> HttpResponse:
    batches = Batch.objects.all().order_by("-created_at")
    return render(request, "annotate/staff/batch_list.html", {"batches": batches})


@require_http_methods(["GET", "POST"])
@staff_required
def batch_build(request: HttpRequest) -> HttpResponse:
    form = BatchBuildForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            batch = services.batch_build(
                name=data["name"],
                language=data["language"],
                dimensions=list(data["dimensions"]),
                annotators=list(data["annotators"]),
                size=data["size"],
                overlap=data["overlap"],
                distribution=data["distribution"],
                task_types=data["task_types"],
                statuses=data["statuses"],
                judge_min=data["judge_min"],
                judge_max=data["judge_max"],
                source_kind=data["source_kind"],
                gold_share=data["gold_share"] or 0.0,
                min_proficiency=data["min_proficiency"],
                instructions=data["instructions"],
                due=data["due"],
                created_by=request.user,
                open_now=data["open_now"],
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Batch “{batch.name}” created.")
            return redirect("annotate:batch_progress", pk=batch.pk)
    status = 422 if form.errors else 200
    return render(request, "annotate/staff/batch_build.html", {"form": form}, status=status)


def _progress_context(batch: Batch) -> dict:
    return {
        "batch": batch,
        "rows": selectors.batch_progress_by_annotator(batch=batch),
        "totals": selectors.batch_totals(batch=batch),
        "annotators": get_user_model()
        .objects.filter(annotator_profile__languages__language=batch.language)
        .order_by("username"),
        "assignments": batch.assignments.exclude(status=Assignment.Status.REVOKED)
        .exclude(status=Assignment.Status.SUBMITTED)
        .select_related("annotator", "sample")
        .order_by("annotator__username", "pk")[:200],
    }


@require_GET
@staff_required
def batch_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """Live progress: the table polls itself every few seconds while the batch is open."""
    batch = get_object_or_404(Batch, pk=pk)
    context = _progress_context(batch)
    if request.htmx:
        response = render(request, "annotate/staff/batch_progress.html#progress-table", context)
        if batch.status != Batch.Status.OPEN:
            return HttpResponseStopPolling(response.content)
        return response
    return render(request, "annotate/staff/batch_progress.html", context)


@require_POST
@staff_required
def batch_status(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(Batch, pk=pk)
    try:
        services.batch_transition(batch=batch, to=request.POST.get("to", ""))
    except DomainError as error:
        messages.error(request, str(error))
    return redirect("annotate:batch_progress", pk=batch.pk)


@require_POST
@staff_required
def assignment_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = get_object_or_404(Assignment, pk=pk)
    try:
        services.assignment_revoke(assignment=assignment)
    except DomainError as error:
        messages.error(request, str(error))
    return redirect("annotate:batch_progress", pk=assignment.batch_id)


@require_POST
@staff_required
def assignment_reassign(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = get_object_or_404(Assignment, pk=pk)
    annotator = get_object_or_404(get_user_model(), pk=request.POST.get("annotator") or 0)
    try:
        services.assignment_reassign(assignment=assignment, annotator=annotator)
    except DomainError as error:
        messages.error(request, str(error))
    return redirect("annotate:batch_progress", pk=assignment.batch_id)


@require_GET
@staff_required
def review_list(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(Batch, pk=pk)
    return render(
        request,
        "annotate/staff/review_list.html",
        {"batch": batch, "items": selectors.review_list(batch=batch)},
    )


@require_http_methods(["GET", "POST"])
@staff_required
def review_item(request: HttpRequest, pk: int, sample_id: int) -> HttpResponse:
    """All annotations of an item side by side; a POST stores the adjudicated values."""
    batch = get_object_or_404(Batch, pk=pk)
    review = selectors.review_item(batch=batch, sample_id=sample_id)
    if request.method == "POST":
        values = {}
        for dimension in review.dimensions:
            raw = request.POST.get(f"final-{dimension.slug}", "")
            if raw.lstrip("-").isdigit():
                values[dimension] = int(raw)
        try:
            services.adjudication_set(sample=review.item.sample, values=values)
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"Adjudicated {len(values)} dimension(s).")
        return redirect("annotate:review_item", pk=batch.pk, sample_id=sample_id)
    sample = review.item.sample
    return render(
        request,
        "annotate/staff/review_item.html",
        {
            "batch": batch,
            "review": review,
            "sample": sample,
            "language": get_language(sample.language),
            "flag_kind": Dimension.Kind.FLAG,
        },
    )
