"""After emergency destruction, the workspace and the API say "data destroyed" instead of failing.

Invariant: while the destruction certificate exists, no request under ``/desk/`` or ``/api/``
reaches a view (which would fail on missing keys, or show half a page): each gets a 410 that
names only the certificate's time and counts. ``/healthz`` and everything else pass through.

Add ``haven.crypto.destroyed.DestroyedStateMiddleware`` to ``MIDDLEWARE`` after the security
header middleware and before the session middleware, so the answer carries Haven's headers
and touches no database.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from haven.crypto.destruction import read_certificate

GUARDED_PREFIXES = ("/desk/", "/api/")
_SHOWN = ("destroyed_at", "data_keys", "intake_keys", "key_files")


class DestroyedStateMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not request.path.startswith(GUARDED_PREFIXES):
            return self.get_response(request)
        certificate = read_certificate()
        if certificate is None:
            return self.get_response(request)
        shown = {name: certificate[name] for name in _SHOWN if name in certificate}
        response: HttpResponse
        if request.path.startswith("/api/"):
            detail = _("The data on this server has been destroyed (emergency destruction).")
            response = JsonResponse({"detail": detail, "certificate": shown}, status=410)
        else:
            body = render_to_string("crypto/destroyed.html", {"certificate": shown})
            response = HttpResponse(body, status=410)
        response["Cache-Control"] = "no-store"
        return response
