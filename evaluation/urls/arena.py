"""URLs of the arena pages (names prefixed, inside the "evaluation" namespace)."""

from django.urls import path

from evaluation.views import arena

urlpatterns = [
    path("", arena.arena_leaderboard_view, name="arena-leaderboard"),
]
