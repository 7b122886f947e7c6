"""API: arena leaderboards (JSON or CSV), human–judge agreement, and the chosen/rejected
preference pairs as JSONL (staff only)."""

import csv
import json

from django.http import HttpResponse, StreamingHttpResponse
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import api_view, permission_classes
from rest_framework.request import Request
from rest_framework.response import Response

from parakh.permissions import IsStaff
from synth.languages import LANGUAGES

from ..selectors.arena import (
    METHODS,
    RATER_KINDS,
    arena_agreement,
    arena_leaderboard,
    preference_pairs,
)

PARAMETERS = [
    OpenApiParameter("language", OpenApiTypes.STR, description="A language code; none: all."),
    OpenApiParameter("raters", OpenApiTypes.STR, enum=list(RATER_KINDS), description="llm"),
    OpenApiParameter("method", OpenApiTypes.STR, enum=list(METHODS), description="bt or elo"),
    OpenApiParameter("resamples", OpenApiTypes.INT, description="Bootstrap resamples."),
]
MAX_RESAMPLES = 5000


def arena_query(params) -> tuple[dict, str]:
    """The leaderboard's arguments from a query string, or an error message."""
    language = params.get("language") or None
    raters = params.get("raters") or "llm"
    method = params.get("method") or "bt"
    if language is not None and language not in LANGUAGES:
        return {}, f"Unknown language {language!r}."
    if raters not in RATER_KINDS:
        return {}, f"raters must be one of {', '.join(RATER_KINDS)}."
    if method not in METHODS:
        return {}, f"method must be one of {', '.join(METHODS)}."
    query = {"language": language, "raters": raters, "method": method}
    if params.get("resamples"):
        try:
            query["resamples"] = int(params["resamples"])
        except ValueError:
            return {}, "resamples must be a whole number."
        if not 0 <= query["resamples"] <= MAX_RESAMPLES:
            return {}, f"resamples must lie in 0..{MAX_RESAMPLES}."
    return query, ""


def _board(board) -> dict:
    return {
        "language": board.language,
        "raters": board.raters,
        "method": board.method,
        "battles": board.battles,
        "resamples": board.resamples,
        "rows": board.rows,
        "models": board.models,
        "win_rates": board.win_rates,
    }


@extend_schema(parameters=PARAMETERS, responses={200: OpenApiTypes.OBJECT})
@api_view(["GET"])
@permission_classes([IsStaff])
def leaderboard(request: Request) -> Response:
    query, error = arena_query(request.query_params)
    if error:
        return Response({"detail": error}, status=400)
    return Response(_board(arena_leaderboard(**query)))


@extend_schema(parameters=PARAMETERS, responses={(200, "text/csv"): OpenApiTypes.STR})
@api_view(["GET"])
@permission_classes([IsStaff])
def leaderboard_csv(request: Request) -> HttpResponse:
    query, error = arena_query(request.query_params)
    if error:
        return HttpResponse(error, status=400, content_type="text/plain")
    board = arena_leaderboard(**query)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"arena-{board.language or 'all'}-{board.raters}-{board.method}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    columns = ["model", "rating", "low", "high", "battles", "wins", "ties", "losses"]
    writer.writerow(["rank", *columns])
    for rank, row in enumerate(board.rows, start=1):
        writer.writerow([rank, *("" if row[c] is None else row[c] for c in columns)])
    return response


@extend_schema(
    parameters=[OpenApiParameter("language", OpenApiTypes.STR)],
    responses={200: OpenApiTypes.OBJECT},
)
@api_view(["GET"])
@permission_classes([IsStaff])
def agreement(request: Request) -> Response:
    language = request.query_params.get("language") or None
    if language is not None and language not in LANGUAGES:
        return Response({"detail": f"Unknown language {language!r}."}, status=400)
    return Response({"language": language, "judges": arena_agreement(language=language)})


@extend_schema(
    parameters=[
        OpenApiParameter("language", OpenApiTypes.STR),
        OpenApiParameter("raters", OpenApiTypes.STR, enum=list(RATER_KINDS)),
    ],
    responses={(200, "application/jsonl"): OpenApiTypes.STR},
)
@api_view(["GET"])
@permission_classes([IsStaff])
def pairs_jsonl(request: Request) -> HttpResponse:
    query, error = arena_query(
        {
            "language": request.query_params.get("language"),
            "raters": request.query_params.get("raters") or "all",
        }
    )
    if error:
        return HttpResponse(error, status=400, content_type="text/plain")
    lines = (
        json.dumps(pair, ensure_ascii=False) + "\n"
        for pair in preference_pairs(language=query["language"], raters=query["raters"])
    )
    response = StreamingHttpResponse(lines, content_type="application/jsonl; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="preference-pairs.jsonl"'
    return response


urlpatterns = [
    path("arena/leaderboard/", leaderboard, name="arena-api-leaderboard"),
    path("arena/leaderboard.csv", leaderboard_csv, name="arena-api-leaderboard-csv"),
    path("arena/agreement/", agreement, name="arena-api-agreement"),
    path("arena/preference-pairs.jsonl", pairs_jsonl, name="arena-api-pairs"),
]
