"""Values every page of the shell needs: language direction and links, the active mission."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import translate_url
from django.utils import translation


def shell(request: HttpRequest) -> dict[str, Any]:
    membership = getattr(request, "membership", None)
    context: dict[str, Any] = {
        "haven_languages": settings.LANGUAGES,
        "haven_text_direction": "rtl" if translation.get_language_bidi() else "ltr",
        "haven_membership": membership,
        "haven_other_missions": [],
    }
    if not request.path_info.startswith("/desk/"):
        path = request.path
        context["haven_language_links"] = [
            {"code": code, "name": name, "url": translate_url(path, code)}
            for code, name in settings.LANGUAGES
        ]
    elif membership is not None:
        # The reverse relation keeps the core free of an import from accounts.
        user: Any = request.user
        others = getattr(request, "haven_memberships", None)
        if others is None:
            others = list(user.memberships.select_related("mission"))
        context["haven_other_missions"] = others if len(others) > 1 else []
    return context
