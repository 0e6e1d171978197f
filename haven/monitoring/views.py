"""Workspace pages of monitoring: hearings and their reports, detentions and visits, the
civic-space timeline and the reprisal register's export, the personal hearings feed. Thin: rows
are reached through the cases the user may see."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from haven.accounts.decorators import reauthenticate
from haven.audit.services import record_read
from haven.cases import selectors as case_selectors
from haven.cases.models import Case
from haven.core import csvfile
from haven.core.access import public, requires_role
from haven.core.http import acting_user, active_mission, apply_errors, form_page, posted
from haven.monitoring import calendar, forms, selectors, services
from haven.monitoring.models import (
    CivicEvent,
    Detention,
    DetentionVisit,
    Hearing,
    ObservationReport,
)

casework = requires_role("admin", "officer")
REFUSED = (services.MonitoringError,)


def _case(request: HttpRequest, case_id: int) -> Case:
    return get_object_or_404(
        case_selectors.cases(acting_user(request), active_mission(request)), pk=case_id
    )


def _row(request: HttpRequest, model: type[Any], pk: int) -> Any:
    rows = model.objects.for_user(acting_user(request), mission=active_mission(request))
    return get_object_or_404(rows.select_related("case"), pk=pk)


def _back(case: Case) -> dict[str, str]:
    return {
        "cancel": case.get_absolute_url(),
        "back_url": case.get_absolute_url(),
        "back_label": f"{case.reference} · {case.title}",
    }


# -- hearings


@casework
def hearing_calendar(request: HttpRequest) -> HttpResponse:
    upcoming, past = selectors.calendar(acting_user(request), active_mission(request))
    return render(request, "monitoring/calendar.html", {"upcoming": upcoming, "past": past})


@casework
def hearing_new(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    form = forms.HearingForm(posted(request), mission=active_mission(request))

    def act() -> str:
        hearing = services.schedule_hearing(
            case=case, actor=acting_user(request), **form.cleaned_data
        )
        return hearing.get_absolute_url()

    return form_page(
        request,
        form,
        title=_("Schedule a hearing"),
        submit=_("Schedule it"),
        act=act,
        refused=REFUSED,
        **_back(case),
    )


@casework
def hearing_detail(request: HttpRequest, hearing_id: int) -> HttpResponse:
    hearing: Hearing = _row(request, Hearing, hearing_id)
    mission = active_mission(request)
    if request.method == "POST" and request.POST.get("status") in {"held", "cancelled"}:
        try:
            services.set_hearing_status(
                hearing=hearing, actor=acting_user(request), status=request.POST["status"]
            )
        except services.MonitoringError as error:
            messages.error(request, str(error))
        return redirect(hearing.get_absolute_url())
    postpone = forms.PostponeForm(
        posted(request) if "postpone" in request.POST else None, mission=mission
    )
    if postpone.is_bound and postpone.is_valid():
        try:
            new = services.postpone_hearing(
                hearing=hearing,
                actor=acting_user(request),
                new_start=postpone.cleaned_data["new_start"],
            )
        except services.MonitoringError as error:
            postpone.add_error(None, str(error))
        else:
            return redirect((new or hearing).get_absolute_url())
    report = getattr(hearing, "report", None)
    record_read(actor=acting_user(request), mission=mission, obj=hearing)
    context = {
        "hearing": hearing,
        "observers": hearing.observers.all(),
        "postpone_form": postpone,
        "report": report,
        "zone": mission.timezone,
        "postponements": services.postponements(hearing.case),
        "now": timezone.now(),
    }
    return render(request, "monitoring/hearing.html", context)


@casework
def report_edit(request: HttpRequest, hearing_id: int) -> HttpResponse:
    hearing: Hearing = _row(request, Hearing, hearing_id)
    existing = getattr(hearing, "report", None)
    if existing is not None:
        record_read(actor=acting_user(request), mission=active_mission(request), obj=existing)
    initial = forms.ReportForm.initial_from(existing) if existing else None
    form = forms.ReportForm(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.record_observation(
                hearing=hearing,
                actor=acting_user(request),
                summary=form.cleaned_data["summary"],
                access=form.cleaned_data["access"],
                authorities_informed=form.cleaned_data["authorities_informed"],
                checklist=form.checklist(),
            )
        except ValidationError as error:
            apply_errors(form, error)
        except services.MonitoringError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The observation report is saved."))
            return redirect(hearing.get_absolute_url())
    return render(request, "monitoring/report_form.html", {"hearing": hearing, "form": form})


@casework
def report_print(request: HttpRequest, hearing_id: int) -> HttpResponse:
    hearing: Hearing = _row(request, Hearing, hearing_id)
    report = get_object_or_404(ObservationReport, hearing=hearing)
    record_read(actor=acting_user(request), mission=active_mission(request), obj=report)
    return render(
        request,
        "monitoring/report_print.html",
        {"hearing": hearing, "report": report, "items": selectors.report_items(report)},
    )


# -- detention


@casework
def detention_new(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    form = forms.DetentionForm(posted(request))
    defender = case.defender
    if defender is None:
        messages.error(request, _("A detention is recorded on a case about a person."))
        return redirect(case.get_absolute_url())

    def act() -> str:
        detention = services.record_detention(
            case=case, actor=acting_user(request), defender=defender, **form.cleaned_data
        )
        return detention.get_absolute_url()

    return form_page(
        request,
        form,
        title=_("Record a detention"),
        submit=_("Record it"),
        act=act,
        refused=REFUSED,
        **_back(case),
    )


@casework
def detention_detail(request: HttpRequest, detention_id: int) -> HttpResponse:
    detention: Detention = _row(request, Detention, detention_id)
    names = list(services.DETENTION_FIELDS)
    form = forms.DetentionEditForm(
        posted(request) if "save" in request.POST else None,
        initial={name: getattr(detention, name) for name in names},
    )
    visit_form = forms.VisitForm(posted(request) if "visit" in request.POST else None)
    try:
        if form.is_bound and form.is_valid():
            services.update_detention(
                detention=detention, actor=acting_user(request), changes=form.cleaned_data
            )
            return redirect(detention.get_absolute_url())
        if visit_form.is_bound and visit_form.is_valid():
            services.request_visit(
                detention=detention, actor=acting_user(request), **visit_form.cleaned_data
            )
            return redirect(detention.get_absolute_url())
    except ValidationError as error:
        apply_errors(form if form.is_bound else visit_form, error)
    record_read(actor=acting_user(request), mission=active_mission(request), obj=detention)
    context = {
        "detention": detention,
        "form": form,
        "visit_form": visit_form,
        "visits": detention.visits.all(),
    }
    return render(request, "monitoring/detention.html", context)


@casework
def visit_edit(request: HttpRequest, visit_id: int) -> HttpResponse:
    visit: DetentionVisit = _row(request, DetentionVisit, visit_id)
    form = forms.VisitUpdateForm(
        posted(request),
        initial={"status": visit.status, "visit_on": visit.visit_on, "outcome": visit.outcome},
    )

    def act() -> str:
        services.update_visit(visit=visit, actor=acting_user(request), **form.cleaned_data)
        return visit.detention.get_absolute_url()

    return form_page(
        request,
        form,
        title=_("Visit request"),
        submit=_("Save"),
        act=act,
        refused=REFUSED,
        **_back(visit.case),
    )


# -- civic space


def _civic_filters(request: HttpRequest) -> tuple[forms.CivicFilterForm, dict[str, Any]]:
    form = forms.CivicFilterForm(request.GET or None)
    values = form.cleaned_data if form.is_bound and form.is_valid() else {}
    return form, values


@casework
def civic_space(request: HttpRequest) -> HttpResponse:
    form, values = _civic_filters(request)
    page = selectors.civic_page(
        acting_user(request), active_mission(request), values, request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "monitoring/civic_space.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


@casework
def civic_event_new(request: HttpRequest) -> HttpResponse:
    form = forms.CivicEventForm(posted(request))
    mission = active_mission(request)

    def act() -> str:
        numbers = form.case_numbers_list()
        linked = list(
            case_selectors.cases(acting_user(request), mission).filter(number__in=numbers)
        )
        missing = sorted(set(numbers) - {case.number for case in linked})
        if missing:
            raise ValidationError(
                {
                    "case_numbers": _("No case you can see has the number %(n)s.")
                    % {"n": ", ".join(f"C-{n}" for n in missing)}
                }
            )
        data = {k: v for k, v in form.cleaned_data.items() if k != "case_numbers"}
        event = services.record_civic_event(
            mission=mission, actor=acting_user(request), cases_linked=linked, **data
        )
        return event.get_absolute_url()

    return form_page(
        request,
        form,
        title=_("Record a civic-space event"),
        submit=_("Record it"),
        cancel=reverse("monitoring:civic_space"),
        act=act,
        refused=REFUSED,
    )


@casework
def civic_event_detail(request: HttpRequest, event_id: int) -> HttpResponse:
    event = get_object_or_404(
        CivicEvent.objects.for_user(acting_user(request), mission=active_mission(request)),
        pk=event_id,
    )
    record_read(actor=acting_user(request), mission=active_mission(request), obj=event)
    linked = case_selectors.cases(acting_user(request), active_mission(request)).filter(
        civic_events=event
    )
    return render(request, "monitoring/civic_event.html", {"event": event, "cases": linked})


@casework
@reauthenticate
@require_safe
def reprisal_register(request: HttpRequest, fmt: str) -> HttpResponse:
    """The de-identified register (docs/reprisal-register.md): codes, dates and regions only."""
    _form, values = _civic_filters(request)
    rows = selectors.reprisal_rows(acting_user(request), active_mission(request), values)
    services.record_export(
        actor=acting_user(request), mission=active_mission(request), rows=len(rows), fmt=fmt
    )
    stamp = timezone.localdate().isoformat()
    if fmt == "json":
        body = json.dumps(
            {"schema": selectors.REGISTER_SCHEMA_VERSION, "events": rows},
            ensure_ascii=False,
            indent=1,
        )
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
    else:
        body = csvfile.records_text(selectors.REGISTER_FIELDS, rows)
        response = HttpResponse(body, content_type=csvfile.CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="reprisal-register-{stamp}.{fmt}"'
    return response


# -- the personal hearings feed


@casework
def feed_settings(request: HttpRequest) -> HttpResponse:
    user, mission = acting_user(request), active_mission(request)
    secret = ""
    if request.method == "POST":
        if "revoke" in request.POST:
            services.revoke_feed(user=user, mission=mission)
            messages.success(request, _("The feed address no longer works."))
            return redirect("monitoring:feed")
        secret = services.create_feed(user=user, mission=mission)
    address = request.build_absolute_uri(reverse("monitoring:ics", args=[secret])) if secret else ""
    return render(
        request,
        "monitoring/feed.html",
        {"address": address, "active": selectors.has_feed(user, mission)},
    )


@public
@require_safe
def ics(request: HttpRequest, feed_token: str) -> HttpResponse:
    """The feed itself, for calendar programs: the secret in the address is the only key."""
    feed = services.feed_for(feed_token)
    if feed is None:
        return HttpResponse(status=404)
    body = calendar.render(calendar.feed_hearings(feed), calendar_name=_("Hearings"))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response
