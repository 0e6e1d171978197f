"""Request ids and the response headers of SECURITY.md item 9 that Django does not set itself."""

from __future__ import annotations

import contextvars
import logging
import secrets
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("haven_request_id", default="-")


def current_request_id() -> str:
    return _request_id.get()


REFRESHED_KEY = "haven_refreshed_at"


class RequestIdLogFilter(logging.Filter):
    """Stamps each log record with the id of the request being served, nothing more."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


class RequestIdMiddleware:
    """Gives every request a short random id that error pages show and logs carry."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = secrets.token_hex(6)
        request.haven_request_id = request_id  # type: ignore[attr-defined]
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


class SecurityHeadersMiddleware:
    """No caching of anything but static files; no cross-origin use of our resources."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith(settings.STATIC_URL):
            response["Cache-Control"] = "no-store"
            response["Pragma"] = "no-cache"
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        response.setdefault(
            "Permissions-Policy",
            "camera=(), microphone=(), geolocation=(), interest-cohort=(), payment=(), usb=()",
        )
        if "Server" in response:
            del response["Server"]
        return response


class FetchMetadataCsrfMiddleware(CsrfViewMiddleware):
    """Django's CSRF protection, made to work with ``Referrer-Policy: no-referrer``.

    Under that policy browsers send ``Origin: null`` on every form post (Fetch standard,
    "serializing a request origin"), which Django would refuse. A post from our own pages
    is then recognised by ``Sec-Fetch-Site: same-origin``, a header that pages on other
    sites cannot set. The CSRF token is still checked as always.
    """

    def _origin_verified(self, request: HttpRequest) -> bool:
        if (
            request.META.get("HTTP_ORIGIN") == "null"
            and request.META.get("HTTP_SEC_FETCH_SITE") == "same-origin"
        ):
            return True
        return bool(super()._origin_verified(request))  # type: ignore[misc]


class HavenLocaleMiddleware(LocaleMiddleware):
    """The portal takes its language from the path only (no cookie on HRD-facing pages);
    the workspace from the person's choice (cookie) or their browser.

    Django's own middleware forces the default language on every path without a prefix
    once the portal uses ``i18n_patterns``; the workspace has no prefix by design.
    """

    def process_request(self, request: HttpRequest) -> None:
        if not request.path_info.startswith(("/desk/", "/api/")):
            super().process_request(request)
            return
        translation.activate(translation.get_language_from_request(request, check_path=False))
        request.LANGUAGE_CODE = translation.get_language()


class SessionRefreshMiddleware:
    """Slide an active session's expiry without writing it on every request.

    A session dies after ``SESSION_COOKIE_AGE`` idle. Saving it on every request (Django's
    ``SESSION_SAVE_EVERY_REQUEST``) costs three queries a page; refreshing it at most once per
    ``HAVEN_SESSION_REFRESH_SECONDS`` keeps the rule, erring on the safe side: a session may
    end up to that many seconds early, never late.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or session.is_empty():
            return response
        now = int(time.time())
        stale = now - int(session.get(REFRESHED_KEY, 0)) >= settings.HAVEN_SESSION_REFRESH_SECONDS
        if session.modified or stale:
            # Saved now either way: note when, so the next minute's requests need not save.
            session[REFRESHED_KEY] = now
        return response
