"""The API's error bodies: every error under ``/api/`` is JSON with a ``detail`` a person can read.

Invariant: an API client never receives an HTML page, a stack trace or an exception's text. The
API's own handlers (``haven/api.py``) answer what reaches a route; ``ApiErrorMiddleware`` answers
what never does (a path no route matches, a method a route does not take, a failure in a
middleware) by rewriting Django's error page as the same JSON. Server errors carry the request id
that the logs carry, so a person can quote it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.utils.translation import gettext as _

API_PREFIX = "/api/"
# Headers of the page being replaced that still describe the JSON answer.
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


def request_id(request: HttpRequest) -> str:
    return str(getattr(request, "haven_request_id", ""))


def server_error_detail(request: HttpRequest) -> str:
    return _(
        "Something went wrong on our side and nothing was changed by the failed step. "
        "Quote request id %(id)s when you report it."
    ) % {"id": request_id(request)}


def unavailable_detail(request: HttpRequest) -> str:
    return _(
        "The database is not answering. Try again in a minute; if it lasts, "
        "quote request id %(id)s to your administrator."
    ) % {"id": request_id(request)}


def detail_for(request: HttpRequest, status: int, allowed: str = "") -> str:
    """The message for an error answered outside the API's routes, by status."""
    if status == 404:
        return _("There is no such route. The schema at /api/v1/openapi.json lists every one.")
    if status == 405:
        return _("This route does not take %(method)s; it takes %(allowed)s.") % {
            "method": request.method,
            "allowed": allowed or "-",
        }
    if status == 413:
        return _("The request is too large.")
    if status == 503:
        return unavailable_detail(request)
    if status >= 500:
        return server_error_detail(request)
    if status == 403:
        return _("You may not do this.")
    return _(
        "The request could not be read. Send JSON that the schema at /api/v1/openapi.json "
        "describes."
    )


def error_body(request: HttpRequest, status: int, detail: str) -> dict[str, Any]:
    """``{"detail": …}``, with the request id on server errors."""
    body: dict[str, Any] = {"detail": detail}
    if status >= 500:
        body["request_id"] = request_id(request)
    return body


class ApiErrorMiddleware:
    """Under ``/api/``, an error answered as a page (by the URL resolver, by a route's method
    check, by Django's error handlers) is answered as JSON instead, with the same status."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if (
            not request.path_info.startswith(API_PREFIX)
            or response.status_code < 400
            or response.streaming
            or response.get("Content-Type", "").startswith("application/json")
        ):
            return response
        status = response.status_code
        detail = detail_for(request, status, allowed=response.get("Allow", ""))
        replaced = JsonResponse(error_body(request, status, detail), status=status)
        for header in KEPT_HEADERS:
            if header in response:
                replaced[header] = response[header]
        return replaced
