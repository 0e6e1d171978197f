"""Leadership dashboards and the annual report input. Thin: figures come from selectors."""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.views.decorators.http import require_safe

from haven.audit.services import record
from haven.core import csvfile
from haven.core.access import requires_role
from haven.core.http import acting_user, active_mission
from haven.reports import annual, selectors
from haven.reports import dashboard as boards
from haven.reports.forms import PeriodForm, YearForm

leadership = requires_role(*selectors.DASHBOARD_ROLES)


def _period_form(request: HttpRequest, missions: list[selectors.Mission]) -> PeriodForm:
    """The filters, offering the regions with enough cases to show. Which regions those are
    changes slowly, and reading them counts every case of the missions: kept a few minutes."""
    user = acting_user(request)
    threshold = max(mission.suppress_below for mission in missions)
    regions, _when = selectors.remembered(
        user, missions, "regions", lambda: selectors.regions(user, missions, threshold)
    )
    return PeriodForm(request.GET or None, regions=regions)


@leadership
@require_safe
def dashboard(request: HttpRequest) -> HttpResponse:
    mission = active_mission(request)
    form = _period_form(request, [mission])
    period = form.period()
    raw = selectors.collect(acting_user(request), [mission], period)
    return render(
        request,
        "reports/dashboard.html",
        {
            "form": form,
            "board": boards.dashboard(raw, [mission], period),
            "several": _dashboard_missions_count(request) > 1,
        },
    )


def _dashboard_missions_count(request: HttpRequest) -> int:
    """How many missions' dashboards the person may see, from the memberships the request
    already read (accounts.middleware)."""
    memberships = getattr(request, "haven_memberships", None)
    if memberships is None:
        return len(selectors.dashboard_missions(acting_user(request)))
    return sum(1 for membership in memberships if membership.role in selectors.DASHBOARD_ROLES)


@leadership
@require_safe
def all_missions(request: HttpRequest) -> HttpResponse:
    """Every mission where the person may see dashboards, each and the total.

    Counts across every mission take seconds to read, so they are kept a few minutes
    (``selectors.remembered``) and the page says when they were worked out."""
    user = acting_user(request)
    missions = selectors.dashboard_missions(user)
    form = _period_form(request, missions)
    period = form.period()

    def figures() -> tuple[list[boards.Headline], boards.Dashboard]:
        raw = selectors.collect(user, missions, period)
        parts = raw.by_mission()
        return (
            [boards.headline(parts[mission.pk], mission) for mission in missions],
            boards.dashboard(raw, missions, period),
        )

    # Kept as built, labels and all: per language, since some are translated when built.
    (each, board), as_of = selectors.remembered(
        user, missions, f"{period!r} {get_language()}", figures
    )
    return render(
        request,
        "reports/all_missions.html",
        {
            "form": form,
            "each": each,
            "board": board,
            "as_of": as_of,
            "fresh_minutes": max(1, settings.HAVEN_DASHBOARD_CACHE_SECONDS // 60),
        },
    )


def _report(request: HttpRequest) -> annual.AnnualReport:
    year = YearForm(request.GET or None).chosen_year()
    return annual.annual_report(acting_user(request), active_mission(request), year)


@leadership
@require_safe
def annual_page(request: HttpRequest) -> HttpResponse:
    form = YearForm(request.GET or None)
    return render(request, "reports/annual.html", {"form": form, "report": _report(request)})


@leadership
@require_safe
def annual_export(request: HttpRequest, fmt: str) -> HttpResponse:
    report = _report(request)
    record(
        action="reports.annual_exported",
        actor=acting_user(request),
        mission=active_mission(request),
        object_type="reports.annual",
        object_id=report.year,
        reason=fmt,
    )
    if fmt == "json":
        body = json.dumps(report.as_json(), ensure_ascii=False, indent=1)
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
    else:
        response = HttpResponse(
            csvfile.rows_text(report.as_rows()), content_type=csvfile.CONTENT_TYPE
        )
    name = f"human-rights-report-input-{report.mission.slug}-{report.year}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
