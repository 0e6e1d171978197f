"""Portal abuse limits without IP addresses or outside CAPTCHAs.

Each portal action that writes or tests a receipt is charged to the visitor (so many an hour)
and to the mission (so many an hour in all, which also bounds visitors who drop their
cookies). A wrong receipt makes the visitor wait before the next attempt, twice as long each
time. The visitor's counters travel in a signed cookie, not in a session row: the server
stores nothing about a visitor, only the mission's count per hour.
"""

from __future__ import annotations

import json
import time
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from haven.core.models import Mission
from haven.intake.models import PortalUsage

COOKIE = "haven_portal"
_SALT = "haven.portal.limits"
_ATTRIBUTE = "_haven_portal_bucket"
MAX_WAIT_SECONDS = 15 * 60


class Limited(Exception):
    """Too many attempts; ``wait`` says how many seconds to wait, when it is known."""

    def __init__(self, wait: int | None = None) -> None:
        super().__init__("portal limit reached")
        self.wait = wait


def _hour() -> str:
    return timezone.now().strftime("%Y%m%d%H")


def _bucket(request: HttpRequest) -> dict[str, Any]:
    bucket: dict[str, Any] | None = getattr(request, _ATTRIBUTE, None)
    if bucket is None:
        try:
            bucket = json.loads(request.get_signed_cookie(COOKIE, default="{}", salt=_SALT) or "{}")
        except (ValueError, TypeError):
            bucket = {}
        if not isinstance(bucket, dict):
            bucket = {}
    if bucket.get("hour") != _hour():
        bucket = {
            "hour": _hour(),
            "count": 0,
            "failures": bucket.get("failures", 0),
            "retry_after": bucket.get("retry_after", 0),
        }
    return bucket


def charge(request: HttpRequest, mission: Mission) -> None:
    """Count one action, or raise ``Limited`` if the session or the mission is over its cap."""
    bucket = _bucket(request)
    wait = int(bucket.get("retry_after", 0) - time.time())
    if wait > 0:
        raise Limited(wait)
    if bucket["count"] >= mission.portal_session_limit:
        raise Limited()
    hour = bucket["hour"]
    with transaction.atomic():
        updated = PortalUsage.objects.filter(
            mission=mission, hour=hour, count__lt=mission.portal_hourly_limit
        ).update(count=F("count") + 1)
        if not updated:
            if PortalUsage.objects.filter(mission=mission, hour=hour).exists():
                raise Limited()
            try:
                with transaction.atomic():
                    PortalUsage.objects.create(mission=mission, hour=hour, count=1)
            except IntegrityError:  # another worker created the hour's row meanwhile
                PortalUsage.objects.filter(mission=mission, hour=hour).update(count=F("count") + 1)
    bucket["count"] += 1
    setattr(request, _ATTRIBUTE, bucket)


def receipt_failed(request: HttpRequest) -> int:
    """A wrong receipt: the session waits 2, 4, 8… seconds (at most 15 minutes) before the
    next try. Returns the wait."""
    bucket = _bucket(request)
    bucket["failures"] = int(bucket.get("failures", 0)) + 1
    wait = min(2 ** bucket["failures"], MAX_WAIT_SECONDS)
    bucket["retry_after"] = time.time() + wait
    setattr(request, _ATTRIBUTE, bucket)
    return wait


def receipt_succeeded(request: HttpRequest) -> None:
    bucket = _bucket(request)
    bucket["failures"], bucket["retry_after"] = 0, 0
    setattr(request, _ATTRIBUTE, bucket)


def remember(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Hand the visitor's counters back in their signed cookie (for an hour)."""
    bucket = getattr(request, _ATTRIBUTE, None)
    if bucket is not None:
        response.set_signed_cookie(
            COOKIE,
            json.dumps(bucket),
            salt=_SALT,
            max_age=3600,
            httponly=True,
            samesite="Strict",
            secure=request.is_secure(),
        )
    return response
