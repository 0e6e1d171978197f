"""What django-axes may know about a failed sign-in: a keyed digest of the username.

Lockout is per username, never per address, and axes' tables never hold a typed name (often
a password typed in the wrong field) or a staff member's address.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from haven.crypto.digests import keyed_digest


def username_key(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    raw = (credentials or {}).get("username") or request.POST.get("username", "")
    return keyed_digest(
        str(raw)[:150].casefold(), purpose="lockout", key=settings.SECRET_KEY.encode()
    )


def no_address(request: HttpRequest) -> str:
    return "0.0.0.0"  # noqa: S104 (the same constant for everyone, stored by axes, never bound)
