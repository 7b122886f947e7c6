"""The annotator's pages (the scoring pages arrive with the annotation issue)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from synth.languages import LANGUAGES
from synth.selectors import demo_sample_count, sample_counts_by_language

from .selectors import batch_progress_for_annotator


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    context = {
        "batches": batch_progress_for_annotator(user=request.user),
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
