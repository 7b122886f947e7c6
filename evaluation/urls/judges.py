"""URLs of the judges pages (names prefixed, inside the "evaluation" namespace)."""

from django.urls import path

from evaluation.views import judges

urlpatterns = [
    path("", judges.judge_list, name="judge-list"),
    path("<int:pk>/", judges.judge_detail, name="judge-detail"),
    path("runs/new/", judges.judge_run_new, name="judge-run-new"),
    path("runs/<int:pk>/", judges.judge_run_detail, name="judge-run-detail"),
    path("runs/<int:pk>/cancel/", judges.judge_run_cancel_view, name="judge-run-cancel"),
    path("runs/<int:pk>/resume/", judges.judge_run_resume_view, name="judge-run-resume"),
]
