"""The annotator's and the admins' annotation pages."""

from django.urls import path

from . import views

app_name = "annotate"

urlpatterns = [
    path("", views.home, name="home"),
]
