"""Staff pages of the synth app (sources, jobs, samples), included at /synth/."""

from django.urls import path

from . import views

app_name = "synth"

urlpatterns = [
    path("sources/", views.source_list, name="source_list"),
    path("jobs/", views.job_list, name="job_list"),
    path("jobs/new/", views.job_create, name="job_create"),
    path("jobs/<int:pk>/", views.job_detail, name="job_detail"),
    path("jobs/<int:pk>/cancel/", views.job_cancel, name="job_cancel"),
    path("jobs/<int:pk>/resume/", views.job_resume, name="job_resume"),
    path("samples/", views.sample_list, name="sample_list"),
]
