"""Signed, single-use tokens on the portal's forms: a post is taken only with a token this
server issued for that form, used once, between a minimum and a maximum age.

The token is ``{form, nonce, issued}`` signed with the secret key. Nothing about the visitor is
in it or kept beside it: when a post spends a token, only its random nonce is stored (as the
primary key, so no sequence orders the rows), with the hour after which it may be forgotten.
A junk post (no token, a forged one, one for another form) is turned away before any
expensive work and counts against no budget; a real person whose token was too quick, too old
or already spent gets the form back with everything typed (docs/portal-limits.md).
"""

from __future__ import annotations

import datetime
import enum
import secrets
import time

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from haven.intake.models import SpentFormToken

_SALT = "haven.intake.form-token"


class Problem(enum.Enum):
    """Why a form's token was not taken, with what the person is told."""

    MISSING = "missing"
    TOO_QUICK = "too_quick"
    EXPIRED = "expired"
    SPENT = "spent"

    @property
    def message(self) -> str:
        return str(_MESSAGES[self])


_MESSAGES = {
    Problem.MISSING: _(
        "This page could not be checked. Nothing was sent yet: check what you wrote, "
        "then send it again."
    ),
    Problem.TOO_QUICK: _("Nothing was sent yet: check what you wrote, then send it again."),
    Problem.EXPIRED: _(
        "This page was open for a long time. Nothing was sent yet: check what you wrote, "
        "then send it again."
    ),
    Problem.SPENT: _(
        "This page was already sent once. Check what you wrote; send it again only if it is "
        "something new."
    ),
}


class TokenRefused(Exception):
    """The post's token cannot be taken; ``problem`` says why."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.value)
        self.problem = problem


def issue(form: str) -> str:
    """A new token for one rendering of ``form``."""
    payload = {"f": form, "n": secrets.token_urlsafe(16), "t": int(time.time())}
    return signing.dumps(payload, salt=_SALT, compress=False)


def _payload(value: str, form: str) -> dict[str, object]:
    if not value or len(value) > 200:
        raise TokenRefused(Problem.MISSING)
    try:
        payload = signing.loads(value, salt=_SALT)
    except signing.BadSignature:
        raise TokenRefused(Problem.MISSING) from None
    if (
        not isinstance(payload, dict)
        or payload.get("f") != form
        or not isinstance(payload.get("n"), str)
        or not isinstance(payload.get("t"), int)
    ):
        raise TokenRefused(Problem.MISSING)
    return payload


def check(value: str, form: str) -> str:
    """The nonce of a valid, unspent token of the right age for ``form``; ``TokenRefused``
    otherwise. Cheap: one signature check and one primary-key lookup."""
    payload = _payload(value, form)
    age = time.time() - int(payload["t"])  # type: ignore[call-overload]
    if age > settings.HAVEN_PORTAL_FORM_MAX_SECONDS:
        raise TokenRefused(Problem.EXPIRED)
    if age < settings.HAVEN_PORTAL_FORM_MIN_SECONDS:
        raise TokenRefused(Problem.TOO_QUICK)
    nonce = str(payload["n"])
    if SpentFormToken.objects.filter(nonce=nonce).exists():
        raise TokenRefused(Problem.SPENT)
    return nonce


def spend(nonce: str) -> None:
    """Mark a checked token used; ``TokenRefused(SPENT)`` if another request spent it first."""
    forget_after = timezone.now() + datetime.timedelta(
        seconds=settings.HAVEN_PORTAL_FORM_MAX_SECONDS
    )
    try:
        with transaction.atomic():
            SpentFormToken.objects.create(
                nonce=nonce, forget_after=forget_after.replace(minute=0, second=0, microsecond=0)
            )
    except IntegrityError:
        raise TokenRefused(Problem.SPENT) from None


def forget_expired() -> int:
    """Remove spent tokens too old to be posted again anyway; returns how many."""
    cutoff = timezone.now() - datetime.timedelta(hours=1)
    deleted, _rows = SpentFormToken.objects.filter(forget_after__lt=cutoff).delete()
    return deleted
