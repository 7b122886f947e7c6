"""Staff page: the arena leaderboard per language and overall, with its intervals drawn."""

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from parakh.http import HtmxHttpRequest
from synth.languages import LANGUAGES, get_language

from ..api.arena import arena_query
from ..selectors.arena import arena_agreement, arena_languages, arena_leaderboard

# The drawn interval's axis: 0..100 in the SVG's own units, with this much room each side.
_MARGIN = 4.0


def _bars(rows: list[dict]) -> list[dict]:
    """Each row with x positions (0..100) for its interval and point on a shared axis."""
    values = [v for row in rows for v in (row["low"], row["high"], row["rating"]) if v is not None]
    if not values:
        return rows
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1.0

    def x(value: float) -> float:
        return round(_MARGIN + (100 - 2 * _MARGIN) * (value - lo) / span, 2)

    return [
        {
            **row,
            "x": x(row["rating"]),
            "x_low": x(row["low"]) if row["low"] is not None else None,
            "x_high": x(row["high"]) if row["high"] is not None else None,
        }
        for row in rows
    ]


@require_GET
@staff_member_required
def arena_leaderboard_view(request: HtmxHttpRequest) -> HttpResponse:
    query, error = arena_query(request.GET)
    if error:
        return HttpResponse(error, status=400, content_type="text/plain")
    board = arena_leaderboard(**query)
    language = get_language(board.language) if board.language else None
    context = {
        "board": board,
        "rows": _bars(board.rows),
        "matrix": list(zip(board.models, board.win_rates, strict=True)),
        "agreement": arena_agreement(language=board.language),
        "language": language,
        "languages": [LANGUAGES[code] for code in arena_languages() if code in LANGUAGES],
        "query": request.GET.urlencode(),
    }
    template = "evaluation/arena.html"
    if request.htmx:
        template += "#board"
    return render(request, template, context)
