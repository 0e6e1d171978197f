"""Emergency destruction from the workspace: two administrators, or a pre-armed token.

Invariant: ``destroy_everything`` runs only after two different administrators of the mission
have each given their password and a fresh second-factor code, for one request at most 15
minutes old, or when a token armed the same way is entered, once. Every step is audited.

Destruction removes the server's keys, so it ends the data of every mission on this server,
not only the mission of the administrators (docs/emergency.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from haven.accounts.models import (
    DestructionToken,
    EmergencyAction,
    EmergencyRequest,
    Membership,
    Role,
    User,
)
from haven.accounts.services import reauthenticate
from haven.audit.services import record
from haven.core.models import Mission
from haven.crypto.destruction import Certificate, destroy_everything
from haven.crypto.digests import random_token, token_digest

REQUEST_LIFETIME = timedelta(minutes=15)
TOKEN_PREFIX = "hvd"
MAX_REASON = 500


class EmergencyError(Exception):
    """A refused emergency step; ``str()`` is the message to show."""


@dataclass(frozen=True)
class Confirmed:
    """What a second confirmation did: destroyed the data, or armed a token (secret once)."""

    certificate: Certificate | None = None
    token_secret: str = ""


def pending_requests(mission: Mission) -> list[EmergencyRequest]:
    """Requests of ``mission`` still waiting for a second administrator."""
    return list(
        EmergencyRequest.objects.filter(
            mission=mission, confirmed_at__isnull=True, expires_at__gt=timezone.now()
        ).select_related("started_by")
    )


def start_request(
    *, actor: User, mission: Mission, action: str, reason: str, password: str, code: str
) -> EmergencyRequest:
    """First administrator: ask for destruction (or a token), confirming who they are."""
    reason = reason.strip()
    if action not in EmergencyAction.values:
        raise EmergencyError(_("Choose one of the listed actions."))
    if not reason or len(reason) > MAX_REASON:
        raise EmergencyError(_("Say why, in at most 500 characters."))
    _refuse_unless_admin(actor, mission)
    _confirm_identity(actor, password, code)
    with transaction.atomic():
        now = timezone.now()
        request = EmergencyRequest.objects.create(
            mission=mission,
            action=action,
            reason=reason,
            started_by=actor,
            started_at=now,
            expires_at=now + REQUEST_LIFETIME,
        )
        record(
            action=f"emergency.{action}_requested",
            actor=actor,
            mission=mission,
            obj=request,
            reason=reason,
        )
    return request


def confirm_request(
    *, actor: User, mission: Mission, request_id: int, password: str, code: str
) -> Confirmed:
    """Second, different administrator: confirm; then the data is destroyed or a token armed."""
    _refuse_unless_admin(actor, mission)
    request = (
        EmergencyRequest.objects.filter(mission=mission, pk=request_id, confirmed_at__isnull=True)
        .select_related("started_by")
        .first()
    )
    if request is None or request.expires_at <= timezone.now():
        raise EmergencyError(_("This request has lapsed or was already used. Start again."))
    if request.started_by_id == actor.pk:
        record(action="emergency.self_confirm_refused", actor=actor, mission=mission, obj=request)
        raise EmergencyError(
            _("A second, different administrator must confirm. You started this request.")
        )
    # Whoever started it must still be entitled to, now.
    _refuse_unless_admin(request.started_by, mission)
    _confirm_identity(actor, password, code)
    with transaction.atomic():
        # Only one confirmation can win, even if two arrive at once, and only in time.
        claimed = EmergencyRequest.objects.filter(
            pk=request.pk, confirmed_at__isnull=True, expires_at__gt=timezone.now()
        ).update(confirmed_by=actor, confirmed_at=timezone.now())
        if not claimed:
            raise EmergencyError(_("This request was already confirmed."))
        record(
            action=f"emergency.{request.action}_confirmed",
            actor=actor,
            mission=mission,
            obj=request,
            reason=request.reason,
        )
        secret = ""
        if request.action == EmergencyAction.ARM_TOKEN:
            secret = f"{TOKEN_PREFIX}_{random_token(40)}"
            token = DestructionToken.objects.create(
                mission=mission,
                digest=token_digest(secret),
                reason=request.reason,
                armed_by=request.started_by,
                confirmed_by=actor,
            )
            record(action="emergency.token_armed", actor=actor, mission=mission, obj=token)
    if secret:
        return Confirmed(token_secret=secret)
    certificate = destroy_everything(
        confirmed_by=[_who(request.started_by), _who(actor)], reason=request.reason
    )
    return Confirmed(certificate=certificate)


def use_token(*, actor: User, mission: Mission, secret: str) -> Certificate:
    """Anyone on the mission's staff: enter a pre-armed token to destroy the data, once."""
    if not Membership.objects.filter(user=actor, mission=mission).exists():
        raise EmergencyError(_("You are not a member of this mission."))
    secret = secret.strip()
    token = None
    if secret.startswith(f"{TOKEN_PREFIX}_") and len(secret) <= 80:
        token = DestructionToken.objects.filter(
            mission=mission, digest=token_digest(secret), used_at__isnull=True
        ).first()
    if token is None:
        record(action="emergency.token_refused", actor=actor, mission=mission)
        raise EmergencyError(_("That is not a usable destruction token. Nothing was destroyed."))
    # The two who armed it must still hold that authority now (over every mission hosted).
    for armer in (token.armed_by, token.confirmed_by):
        if armer is None or not armer.is_active:
            raise EmergencyError(_("That token's administrators no longer hold office."))
        _refuse_unless_admin(armer, mission)
    with transaction.atomic():
        claimed = DestructionToken.objects.filter(pk=token.pk, used_at__isnull=True).update(
            used_at=timezone.now(), used_by=actor
        )
        if not claimed:
            raise EmergencyError(_("That token was already used."))
        record(action="emergency.token_used", actor=actor, mission=mission, obj=token)
    confirmed_by = [_who(token.armed_by), _who(token.confirmed_by), _who(actor)]
    return destroy_everything(confirmed_by=confirmed_by, reason=token.reason)


def _refuse_unless_admin(actor: User, mission: Mission) -> None:
    """Destruction wipes every mission on the server (the keys are shared), so it takes
    administrators of every one of them, not of one."""
    if not Membership.objects.filter(user=actor, mission=mission, role=Role.ADMIN).exists():
        raise EmergencyError(_("Only an administrator of this mission can do this."))
    administered = Membership.objects.filter(user=actor, role=Role.ADMIN).values("mission_id")
    if Mission.objects.exclude(pk__in=administered).exists():
        raise EmergencyError(
            _(
                "Emergency destruction wipes every mission on this server. Only someone who"
                " administers all of them can start or confirm it; ask the server's operator."
            )
        )


def _confirm_identity(actor: User, password: str, code: str) -> None:
    if not reauthenticate(user=actor, password=password, code=code):
        raise EmergencyError(_("The password or the code is not right. Codes work once."))


def _who(user: User) -> tuple[int | None, str]:
    return (user.pk, user.get_username())
