"""The audit log of the active mission, for its auditors and administrators."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from haven.audit import selectors
from haven.audit.services import verify_chain
from haven.core.access import requires_role

PAGE_SIZE = 50


@requires_role("auditor", "admin")
def log(request: HttpRequest) -> HttpResponse:
    mission = request.membership.mission  # type: ignore[attr-defined]
    action = selectors.clean_action_prefix(request.GET.get("action", ""))
    events = selectors.mission_events(mission, action)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    verification = None
    if request.method == "POST":
        verification = verify_chain(actor=request.user, mission=mission)
    return render(
        request,
        "audit/log.html",
        {"page": page, "action": action, "verification": verification},
    )
