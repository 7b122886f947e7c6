"""API: agreement reports as JSON and every chart's numbers as CSV (staff only).

Like the pages, these read the cached report only and queue a recompute when it is
missing or out of date: 202 while there is nothing to show yet.
"""

import csv

from django.http import Http404, HttpResponse
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import api_view, permission_classes
from rest_framework.request import Request
from rest_framework.response import Response

from parakh.permissions import IsStaff
from synth.languages import LANGUAGES

from ..selectors.agreement import ALL_LANGUAGES, cell_part
from ..services.agreement import agreement_report_ensure
from ..views.dashboards import AgreementFilterForm, agreement_filter_from_query, chosen_judge

CHARTS = ("distribution", "confusion", "disagreements", "annotators")

FILTER_PARAMETERS = [
    OpenApiParameter("language", OpenApiTypes.STR, many=True, description="Language codes."),
    OpenApiParameter("task_type", OpenApiTypes.STR, many=True),
    OpenApiParameter("batch", OpenApiTypes.INT, description="Only the samples of this batch."),
    OpenApiParameter("judge", OpenApiTypes.INT, description="Judge shown (CSV); default first."),
    OpenApiParameter("rated_from", OpenApiTypes.DATE),
    OpenApiParameter("rated_to", OpenApiTypes.DATE),
]
COMPUTING = "The report is being computed; try again shortly."


def _report(request: Request, part: str) -> tuple[AgreementFilterForm, dict]:
    form, filters = agreement_filter_from_query(request.query_params)
    if not form.is_valid():
        return form, {}
    return form, agreement_report_ensure(filters=filters, part=part)


def _json(form: AgreementFilterForm, state: dict) -> Response:
    if not form.is_valid():
        return Response(form.errors, status=400)
    if state["data"] is None:
        return Response({"status": "computing", "pending": state["pending"]}, status=202)
    status = "stale" if state["stale"] else "fresh"
    return Response({"status": status, "pending": state["pending"], "report": state["data"]})


def _csv(filename: str, header: list[str], rows: list[list]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows(["" if value is None else value for value in row] for row in rows)
    return response


def _not_ready(form: AgreementFilterForm, state: dict) -> HttpResponse | None:
    if not form.is_valid():
        return HttpResponse(form.errors.as_text(), status=400, content_type="text/plain")
    if state["data"] is None:
        return HttpResponse(COMPUTING, status=202, content_type="text/plain")
    return None


def _check_cell(language: str) -> None:
    if language != ALL_LANGUAGES and language not in LANGUAGES:
        raise Http404("Unknown language.")


@extend_schema(parameters=FILTER_PARAMETERS, responses={200: OpenApiTypes.OBJECT})
@api_view(["GET"])
@permission_classes([IsStaff])
def overview(request: Request) -> Response:
    return _json(*_report(request, "overview"))


@extend_schema(parameters=FILTER_PARAMETERS, responses={(200, "text/csv"): OpenApiTypes.STR})
@api_view(["GET"])
@permission_classes([IsStaff])
def overview_csv(request: Request) -> HttpResponse:
    form, state = _report(request, "overview")
    if (refused := _not_ready(form, state)) is not None:
        return refused
    report = state["data"]
    judge = chosen_judge(form, report["judges"])
    rows = []
    for code in [*report["languages"], ALL_LANGUAGES]:
        for dimension in report["dimensions"]:
            cell = report["grid"].get(code, {}).get(dimension["slug"])
            if cell is None:
                continue
            humans = cell["humans"]
            judged = cell["judges"].get(str(judge["id"])) if judge else None
            versus = judged["vs_consensus"] if judged else {}
            rows.append(
                [
                    code,
                    dimension["slug"],
                    cell["items"],
                    cell["ratings"],
                    cell["human_ratings"],
                    cell["annotator_count"],
                    humans["value"],
                    humans["low"],
                    humans["high"],
                    humans["resamples"],
                    humans["reason"],
                    judge["name"] if judged else None,
                    judged["with_humans"]["value"] if judged else None,
                    versus.get("alpha", {}).get("value"),
                    versus.get("exact"),
                    versus.get("within_one"),
                    versus.get("n"),
                ]
            )
    header = [
        "language",
        "dimension",
        "items",
        "ratings",
        "human_ratings",
        "annotators",
        "human_alpha",
        "human_alpha_low",
        "human_alpha_high",
        "resamples",
        "not_computable_reason",
        "judge",
        "alpha_humans_plus_judge",
        "judge_alpha_vs_consensus",
        "judge_exact",
        "judge_within_one",
        "judge_items",
    ]
    return _csv("agreement-overview.csv", header, rows)


@extend_schema(parameters=FILTER_PARAMETERS, responses={200: OpenApiTypes.OBJECT})
@api_view(["GET"])
@permission_classes([IsStaff])
def cell(request: Request, language: str, dimension: str) -> Response:
    _check_cell(language)
    return _json(*_report(request, cell_part(language, dimension)))


def _cell_rows(chart: str, report: dict) -> tuple[list[str], list[list]]:
    judges = sorted(report["judges"].items(), key=lambda item: int(item[0]))
    cats = report["categories"]
    if chart == "distribution":
        header = ["value", "humans", *[judge["name"] for _, judge in judges]]
        rows = [
            [value, report["human_distribution"][i], *[j["distribution"][i] for _, j in judges]]
            for i, value in enumerate(cats)
        ]
    elif chart == "confusion":
        header = ["judge", "judge_value", "consensus_value", "count"]
        rows = [
            [judge["name"], cats[r], cats[c], judge["confusion"][r][c]]
            for _, judge in judges
            for r in range(len(cats))
            for c in range(len(cats))
        ]
    elif chart == "disagreements":
        header = ["sample", "spread", "human_values", "consensus"]
        header += [judge["name"] for _, judge in judges]
        rows = [
            [
                item["sample"],
                item["spread"],
                " ".join(map(str, item["human_values"])),
                item["consensus"],
                *[item["judges"].get(judge_id) for judge_id, _ in judges],
            ]
            for item in report["disagreements"]
        ]
    else:
        header = [
            "annotator",
            "ratings",
            "shared_items",
            "alpha_vs_rest",
            "exact_vs_rest",
            "within_one_vs_rest",
            "gold_items",
            "gold_accuracy",
        ]
        rows = [
            [
                a["name"],
                a["ratings"],
                a["vs_rest"]["n"],
                a["vs_rest"]["alpha"]["value"],
                a["vs_rest"]["exact"],
                a["vs_rest"]["within_one"],
                a["gold_n"],
                a["gold_accuracy"],
            ]
            for a in report["annotators"]
        ]
    return header, rows


@extend_schema(parameters=FILTER_PARAMETERS, responses={(200, "text/csv"): OpenApiTypes.STR})
@api_view(["GET"])
@permission_classes([IsStaff])
def cell_csv(request: Request, language: str, dimension: str, chart: str) -> HttpResponse:
    _check_cell(language)
    if chart not in CHARTS:
        raise Http404("Unknown chart.")
    form, state = _report(request, cell_part(language, dimension))
    if (refused := _not_ready(form, state)) is not None:
        return refused
    header, rows = _cell_rows(chart, state["data"])
    return _csv(f"agreement-{language}-{dimension}-{chart}.csv", header, rows)


@extend_schema(parameters=FILTER_PARAMETERS, responses={200: OpenApiTypes.OBJECT})
@api_view(["GET"])
@permission_classes([IsStaff])
def judges(request: Request) -> Response:
    return _json(*_report(request, "judges"))


@extend_schema(parameters=FILTER_PARAMETERS, responses={(200, "text/csv"): OpenApiTypes.STR})
@api_view(["GET"])
@permission_classes([IsStaff])
def judges_csv(request: Request) -> HttpResponse:
    form, state = _report(request, "judges")
    if (refused := _not_ready(form, state)) is not None:
        return refused
    report = state["data"]
    names = {judge["id"]: judge["name"] for judge in report["judges"]}
    rows = [
        [
            row["dimension"],
            names[column["judge"]],
            column["ratings"],
            row["humans"]["value"],
            column["with_humans"]["value"] if column["with_humans"] else None,
            column["vs_consensus"]["alpha"]["value"] if column["vs_consensus"] else None,
            column["vs_consensus"]["exact"] if column["vs_consensus"] else None,
            column["vs_consensus"]["within_one"] if column["vs_consensus"] else None,
            column["judgments"],
            column["parse_failures"],
            column["parse_failure_rate"],
        ]
        for row in report["rows"]
        for column in row["judges"]
    ]
    header = [
        "dimension",
        "judge",
        "ratings",
        "human_alpha",
        "alpha_humans_plus_judge",
        "alpha_vs_consensus",
        "exact",
        "within_one",
        "judgments",
        "parse_failures",
        "parse_failure_rate",
    ]
    return _csv("agreement-judges.csv", header, rows)


urlpatterns = [
    path("agreement/overview/", overview, name="agreement-api-overview"),
    path("agreement/overview.csv", overview_csv, name="agreement-api-overview-csv"),
    path("agreement/judges/", judges, name="agreement-api-judges"),
    path("agreement/judges.csv", judges_csv, name="agreement-api-judges-csv"),
    path("agreement/cells/<str:language>/<slug:dimension>/", cell, name="agreement-api-cell"),
    path(
        "agreement/cells/<str:language>/<slug:dimension>/<str:chart>.csv",
        cell_csv,
        name="agreement-api-cell-csv",
    ),
]
