"""When the database cannot be reached: a 503 that says to try again, never a stack trace.

A connection cut, a database server restarting or a full disk under SQLite surfaces as Django's
``OperationalError`` or ``InterfaceError`` wherever it happens: in a view, in a middleware, in
the session or the signed-in user loaded on the way. Django turns every uncaught exception
into the 500 handler, which asks ``unavailable_response`` whether the exception in flight is
one of these; so does the 400 handler, because Django reports a session that could not be saved
as a bad request (``SessionInterrupted``, raised from the database error). The answer is then
503 with ``Retry-After``: the workspace's own shell, the
portal's shell, or JSON under ``/api/``, each with the request id to quote.

The invariant: this page never touches the database. It is rendered without the request's
context processors (the signed-in user, the session's messages and the mission switcher would
each query it), from values the request already holds. Django closes a broken connection at
the end of the request, so the next request opens a fresh one and the process recovers by
itself.
"""

from __future__ import annotations

import sys

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.urls import translate_url
from django.utils import translation
from django.utils.translation import gettext as _

RETRY_AFTER_SECONDS = 5
# Exceptions that mean "the database is not there just now", not a fault in the code.
UNAVAILABLE = (OperationalError, InterfaceError)


def database_unavailable(error: BaseException | None) -> bool:
    """Whether ``error``, or an exception it was raised from or while handling, says the
    database could not be reached (a rollback on a cut connection raises a second error)."""
    seen = 0
    while error is not None and seen < 8:
        if isinstance(error, UNAVAILABLE):
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False


def unavailable_response(
    request: HttpRequest, error: BaseException | None = None
) -> HttpResponse | None:
    """The 503 for ``error`` (else the exception being handled), or ``None`` when it is not
    the database's."""
    if not database_unavailable(error or sys.exc_info()[1]):
        return None
    request_id = str(getattr(request, "haven_request_id", ""))
    path = request.path_info
    if path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {
                "detail": _(
                    "Haven cannot reach its database just now. Your change may not have been"
                    " saved: check in a moment, and send it again if it is missing."
                ),
                "request_id": request_id,
            },
            status=503,
        )
    else:
        response = HttpResponse(_page(request, request_id), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _page(request: HttpRequest, request_id: str) -> str:
    workspace = request.path_info.startswith("/desk/") and settings.HAVEN_FACE != "portal"
    context: dict[str, object] = {
        "base_template": "core/workspace/base.html" if workspace else "core/portal/base.html",
        "request_id": request_id,
        "workspace": workspace,
        "LANGUAGE_CODE": translation.get_language(),
        "haven_text_direction": "rtl" if translation.get_language_bidi() else "ltr",
        "haven_languages": settings.LANGUAGES,
    }
    if not workspace:
        context["haven_language_links"] = [
            {"code": code, "name": name, "url": translate_url(request.path, code)}
            for code, name in settings.LANGUAGES
        ]
    return render_to_string("core/errors/503.html", context)
