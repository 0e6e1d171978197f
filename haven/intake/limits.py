"""The portal's abuse limits, without identifying anyone: no IP address, no cookie, no
outside CAPTCHA, no script (docs/portal-limits.md).

Two budgets per mission, counted in the database and apart from each other:

- **requests**: only requests actually stored count, so many an hour. A place is reserved
  just before storing and given back if storing fails, so junk, refused or failed posts never
  use it up;
- **receipt checks**: every check of a receipt (right or wrong: each costs a memory-hard key
  derivation) counts, so many a minute. When it runs out, checks wait for the next minute,
  before any key derivation is spent; sending requests is not affected.

A post must first carry a valid form token (intake/tokens.py), which costs a signature check
and nothing else, so a flood of junk meets neither budget.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from haven.core.models import Mission
from haven.intake.models import PortalBudget, PortalUsage


class Limited(Exception):
    """A budget is spent for now; ``wait`` is the number of seconds until it is renewed."""

    def __init__(self, wait: int) -> None:
        super().__init__("portal limit reached")
        self.wait = wait


def _hour() -> tuple[str, int]:
    now = timezone.now()
    return now.strftime("%Y%m%d%H"), 3600 - (now.minute * 60 + now.second)


def _minute() -> tuple[str, int]:
    now = timezone.now()
    return now.strftime("%Y%m%d%H%M"), 60 - now.second


_WINDOWS: dict[str, Callable[[], tuple[str, int]]] = {
    PortalBudget.SUBMISSIONS: _hour,
    PortalBudget.RECEIPTS: _minute,
}


def _limit(mission: Mission, budget: str) -> int:
    if budget == PortalBudget.RECEIPTS:
        return mission.portal_receipt_limit
    return mission.portal_hourly_limit


def _take(mission: Mission, budget: str) -> None:
    """Count one use of ``budget`` in its current window, or raise ``Limited``."""
    window, wait = _WINDOWS[budget]()
    limit = _limit(mission, budget)
    rows = PortalUsage.objects.filter(mission=mission, budget=budget, window=window)
    # A spent budget is told by a read: a flood beyond it never queues for SQLite's one write
    # lock, which the people's own requests need.
    if rows.filter(count__gte=limit).exists():
        raise Limited(wait)
    with transaction.atomic():
        if rows.filter(count__lt=limit).update(count=F("count") + 1):
            return
        if rows.exists() or limit < 1:
            raise Limited(wait)
        try:
            with transaction.atomic():
                PortalUsage.objects.create(mission=mission, budget=budget, window=window, count=1)
        except IntegrityError:  # another worker created the window's row meanwhile
            if not rows.filter(count__lt=limit).update(count=F("count") + 1):
                raise Limited(wait) from None


def reserve_submission(mission: Mission) -> None:
    """Hold a place for one request about to be stored; ``Limited`` when the hour is full."""
    _take(mission, PortalBudget.SUBMISSIONS)


def release_submission(mission: Mission) -> None:
    """Give back a place reserved for a request that was not stored after all."""
    window, _wait = _hour()
    PortalUsage.objects.filter(
        mission=mission, budget=PortalBudget.SUBMISSIONS, window=window, count__gt=0
    ).update(count=F("count") - 1)


def charge_receipt_check(mission: Mission) -> None:
    """Count one receipt check before its key derivation runs; ``Limited`` when this minute's
    checks are spent."""
    _take(mission, PortalBudget.RECEIPTS)


def forget_old_windows() -> int:
    """Remove counts of windows that ended more than a day ago; returns how many."""
    cutoff = timezone.now() - datetime.timedelta(days=1)
    deleted, _rows = PortalUsage.objects.filter(window__lt=cutoff.strftime("%Y%m%d%H")).delete()
    return deleted
