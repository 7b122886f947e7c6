"""The annotator's and the admins' annotation pages."""

from django.urls import path

from . import views

app_name = "annotate"

urlpatterns = [
    path("", views.home, name="home"),
    path("batches/<int:pk>/next/", views.batch_next, name="batch_next"),
    path("items/<int:pk>/", views.item, name="item"),
    path("staff/batches/", views.batch_list, name="batch_list"),
    path("staff/batches/new/", views.batch_build, name="batch_build"),
    path("staff/batches/<int:pk>/", views.batch_progress, name="batch_progress"),
    path("staff/batches/<int:pk>/status/", views.batch_status, name="batch_status"),
    path("staff/batches/<int:pk>/review/", views.review_list, name="review_list"),
    path(
        "staff/batches/<int:pk>/review/<int:sample_id>/",
        views.review_item,
        name="review_item",
    ),
    path("staff/assignments/<int:pk>/revoke/", views.assignment_revoke, name="assignment_revoke"),
    path(
        "staff/assignments/<int:pk>/reassign/",
        views.assignment_reassign,
        name="assignment_reassign",
    ),
]
