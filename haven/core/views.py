"""The portal home, the workspace desk, the health check and the error pages."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from haven.core import selectors
from haven.core.access import public, requires_role
from haven.core.desk import panels_for
from haven.core.unavailable import unavailable_response


@public
@require_safe
def portal_home(request: HttpRequest) -> HttpResponse:
    mission = selectors.portal_mission()
    return render(request, "core/portal/home.html", {"mission": mission})


@requires_role()
def desk(request: HttpRequest) -> HttpResponse:
    return render(request, "core/workspace/desk.html", {"panels": panels_for(request)})


@public
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """For process managers: answers 200 when the database answers, 503 otherwise. No data."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


def _error(request: HttpRequest, status: int, template: str) -> HttpResponse:
    context = {"request_id": getattr(request, "haven_request_id", "")}
    workspace = request.path_info.startswith("/desk/") and settings.HAVEN_FACE != "portal"
    context["base_template"] = "core/workspace/base.html" if workspace else "core/portal/base.html"
    return render(request, template, context, status=status)


def bad_request(request: HttpRequest, exception: Any = None) -> HttpResponse:
    # A session that could not be saved because the database was unreachable is not the
    # person's bad request.
    unavailable = unavailable_response(request, exception)
    if unavailable is not None:
        return unavailable
    return _error(request, 400, "core/errors/400.html")


def permission_denied(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return _error(request, 403, "core/errors/403.html")


def page_not_found(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return _error(request, 404, "core/errors/404.html")


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page, or a 503 when the exception in flight says the database is unreachable."""
    try:
        unavailable = unavailable_response(request)
        if unavailable is not None:
            return unavailable
        return _error(request, 500, "core/errors/500.html")
    except Exception:
        # The shell itself may be what failed; answer plainly rather than not at all.
        request_id = getattr(request, "haven_request_id", "")
        return HttpResponse(
            f"Something went wrong on our side. Request id: {request_id}",
            status=500,
            content_type="text/plain; charset=utf-8",
        )
