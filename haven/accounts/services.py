"""Every write about staff: accounts, memberships, second factors, sessions and API tokens.

Each function names its actor and mission, runs in one transaction and records an audit
event. Refusals raise ``AccountError`` with a message a person can act on. A change that could
hand an account to someone (a one-time password, second factors removed, a new administrator)
leaves a notice for every other administrator, in the same transaction (``_notify_admins``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from haven.accounts.models import (
    AccountNotice,
    AccountNoticeKind,
    ApiToken,
    Membership,
    Role,
    TokenScope,
    User,
)
from haven.audit.services import record
from haven.core.models import Mission
from haven.core.vocab.sections import SECTIONS
from haven.crypto.digests import digests_equal, one_time_password, random_token, token_digest

RECOVERY_CODE_COUNT = 10
TOKEN_PREFIX = "hvn"
MAX_TOKEN_DAYS = 365


class AccountError(Exception):
    """A refused account operation; ``str()`` is the message to show."""


# -- accounts and memberships ---------------------------------------------------------------


@dataclass(frozen=True)
class NewAccount:
    user: User
    membership: Membership
    one_time_password: str


def add_staff_user(
    *, actor: User | None, mission: Mission, username: str, role: str, email: str = ""
) -> NewAccount:
    """Create a staff account in ``mission`` with a one-time password that must be changed."""
    username = username.strip()
    if role not in Role.values:
        raise AccountError(_("Choose one of the listed roles."))
    if User.objects.filter(username__iexact=username).exists():
        raise AccountError(
            _("The username “%(name)s” is taken. Choose another.") % {"name": username}
        )
    password = one_time_password()
    with transaction.atomic():
        user = User(username=username, email=email.strip(), must_change_password=True)
        user.full_clean(exclude=["password"])
        user.set_password(password)
        user.save()
        membership = Membership.objects.create(user=user, mission=mission, role=role)
        record(
            action="member.added",
            actor=actor,
            mission=mission,
            obj=membership,
            fields=["username", "email", "role"],
        )
        if role == Role.ADMIN:
            _notify_admins(
                actor=actor, missions=[mission], subject=user, kind=AccountNoticeKind.MADE_ADMIN
            )
    return NewAccount(user=user, membership=membership, one_time_password=password)


def grant_membership(*, actor: User | None, mission: Mission, user: User, role: str) -> Membership:
    """Give an existing account a role in another mission (headquarters staff, rotations)."""
    if role not in Role.values:
        raise AccountError(_("Choose one of the listed roles."))
    with transaction.atomic():
        membership, created = Membership.objects.get_or_create(
            user=user, mission=mission, defaults={"role": role}
        )
        if not created:
            raise AccountError(_("This person is already a member of the mission."))
        record(action="member.added", actor=actor, mission=mission, obj=membership, fields=["role"])
        if role == Role.ADMIN:
            _notify_admins(
                actor=actor, missions=[mission], subject=user, kind=AccountNoticeKind.MADE_ADMIN
            )
    return membership


def _refuse_losing_last_admin(membership: Membership) -> None:
    """Call inside a transaction: locks the mission so two admins cannot remove each other."""
    if membership.role != Role.ADMIN:
        return
    # NO KEY UPDATE, as cases._next_number: rows pointing at the mission are not blocked.
    Mission.objects.select_for_update(no_key=True).filter(pk=membership.mission_id).first()
    others = Membership.objects.filter(mission=membership.mission, role=Role.ADMIN).exclude(
        pk=membership.pk
    )
    if not others.filter(user__is_active=True).exists():
        raise AccountError(
            _(
                "A mission needs at least one administrator. "
                "Make someone else an administrator first."
            )
        )


def change_role(
    *,
    actor: User,
    membership: Membership,
    role: str,
    sees_identity_tags: bool | None = None,
    sections: list[str] | None = None,
) -> Membership:
    """Change a member's role and, if given, whether they may see identity tags and which
    sections they work in."""
    if role not in Role.values:
        raise AccountError(_("Choose one of the listed roles."))
    if sections is not None and any(code not in SECTIONS for code in sections):
        raise AccountError(_("Choose sections from the list."))
    changed = [] if role == membership.role else ["role"]
    if sees_identity_tags is not None and sees_identity_tags != membership.sees_identity_tags:
        changed.append("sees_identity_tags")
    if sections is not None and sorted(sections) != sorted(membership.sections):
        changed.append("sections")
    if not changed:
        return membership
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        if role != Role.ADMIN:
            _refuse_losing_last_admin(membership)
        elif membership.role != Role.ADMIN:
            _notify_admins(
                actor=actor,
                missions=[membership.mission],
                subject=membership.user,
                kind=AccountNoticeKind.MADE_ADMIN,
            )
        membership.role = role
        if sees_identity_tags is not None:
            membership.sees_identity_tags = sees_identity_tags
        if sections is not None:
            membership.sections = list(sections)  # type: ignore[assignment]
        membership.save(update_fields=changed)
        record(
            action="member.role_changed",
            actor=actor,
            mission=membership.mission,
            obj=membership,
            fields=changed,
        )
    return membership


def remove_membership(*, actor: User, membership: Membership) -> None:
    with transaction.atomic():
        _refuse_losing_last_admin(membership)
        _revoke_tokens(actor=actor, user=membership.user, mission=membership.mission)
        record(
            action="member.removed",
            actor=actor,
            mission=membership.mission,
            obj=membership,
            fields=["role"],
        )
        membership.delete()


def _refuse_without_authority_over(actor: User | None, user: User) -> None:
    """Credentials are global, so resetting them needs authority in every mission of the user.

    An administrator of one mission must not be able to take over a headquarters account
    that also works in missions they do not administer. The operator (no actor, from the
    command line) may.
    """
    if actor is None:
        return
    administered = set(
        Membership.objects.filter(user=actor, role=Role.ADMIN).values_list("mission_id", flat=True)
    )
    theirs = set(Membership.objects.filter(user=user).values_list("mission_id", flat=True))
    if not theirs <= administered:
        raise AccountError(
            _(
                "This person also works in missions you do not administer. Ask the operator"
                " of the Haven server to reset their access."
            )
        )


def _missions_of(user: User) -> list[Mission]:
    """Every mission of ``user``: a password or a second factor opens all of them."""
    return list(Mission.objects.filter(memberships__user=user).order_by("pk"))


def _notify_admins(
    *, actor: User | None, missions: list[Mission], subject: User, kind: AccountNoticeKind
) -> int:
    """Leave a notice of ``kind`` for every administrator of ``missions`` but ``actor`` and
    ``subject``; call inside the transaction of the change. Returns how many were left.

    The subject is left out too: whoever now holds their new password could dismiss it."""
    admins = (
        Membership.objects.filter(mission__in=missions, role=Role.ADMIN, user__is_active=True)
        .exclude(user=subject)
        .values_list("mission_id", "user_id")
    )
    notices = [
        AccountNotice(
            mission_id=mission_id, recipient_id=user_id, kind=kind, actor=actor, subject=subject
        )
        for mission_id, user_id in admins
        if actor is None or user_id != actor.pk
    ]
    AccountNotice.objects.bulk_create(notices)
    return len(notices)


def dismiss_account_notice(*, actor: User, mission: Mission, notice_id: int) -> AccountNotice:
    """Mark a notice addressed to ``actor`` in ``mission`` as read, so it leaves their desk.

    Anyone else's notice is as unknown as one that does not exist."""
    with transaction.atomic():
        notice = (
            AccountNotice.objects.for_user(actor, mission=mission)
            .select_for_update()
            .filter(pk=notice_id)
            .first()
        )
        if notice is None:
            raise AccountError(_("This notice is not on your desk any more."))
        if notice.dismissed_at is None:
            notice.dismissed_at = timezone.now()
            notice.save(update_fields=["dismissed_at"])
            record(
                action="account_notice.dismissed",
                actor=actor,
                mission=mission,
                obj=notice,
                fields=["dismissed_at"],
            )
    return notice


def issue_one_time_password(*, actor: User | None, membership: Membership) -> str:
    """Replace a member's password with a one-time one; administrators never choose it."""
    _refuse_without_authority_over(actor, membership.user)
    password = one_time_password()
    with transaction.atomic():
        user = membership.user
        _revoke_tokens(actor=actor, user=user)
        user.set_password(password)
        user.must_change_password = True
        user.sessions_valid_after = timezone.now()
        user.save(update_fields=["password", "must_change_password", "sessions_valid_after"])
        record(
            action="password.reset",
            actor=actor,
            mission=membership.mission,
            obj=user,
            fields=["password"],
        )
        _notify_admins(
            actor=actor,
            missions=_missions_of(user),
            subject=user,
            kind=AccountNoticeKind.ONE_TIME_PASSWORD,
        )
    return password


def change_password(*, user: User, new_password: str) -> None:
    if user.check_password(new_password):
        # Above all after a one-time password: whoever issued it must not know the new one.
        raise ValidationError(_("Choose a password different from the current one."))
    validate_password(new_password, user)
    with transaction.atomic():
        user.set_password(new_password)
        user.must_change_password = False
        user.save(update_fields=["password", "must_change_password"])
        record(action="password.changed", actor=user, obj=user, fields=["password"])


def update_mission_settings(*, actor: User, mission: Mission, changes: dict[str, Any]) -> list[str]:
    """Apply an administrator's changes to the mission; returns the names of changed fields."""
    changed = [name for name, value in changes.items() if getattr(mission, name) != value]
    if not changed:
        return []
    with transaction.atomic():
        for name in changed:
            setattr(mission, name, changes[name])
        mission.full_clean()
        mission.save(update_fields=changed)
        record(action="mission.updated", actor=actor, mission=mission, obj=mission, fields=changed)
    return changed


# -- sessions -------------------------------------------------------------------------------


def kill_sessions(*, actor: User, user: User, mission: Mission | None = None) -> None:
    """End every session of ``user``; each is destroyed on the server at its next request."""
    with transaction.atomic():
        user.sessions_valid_after = timezone.now()
        user.save(update_fields=["sessions_valid_after"])
        _revoke_tokens(actor=actor, user=user)
        record(
            action="sessions.killed",
            actor=actor,
            mission=mission,
            obj=user,
            fields=["sessions_valid_after"],
        )


def reauthenticate(*, user: User, password: str, code: str) -> bool:
    """Check the password and a fresh second-factor code before a sensitive operation."""
    password_ok = user.check_password(password)
    device = verify_second_factor(user=user, token=code)
    ok = password_ok and device is not None
    record(action="auth.reauthenticated" if ok else "auth.reauth_failed", actor=user, obj=user)
    return ok


# -- second factors -------------------------------------------------------------------------


def has_second_factor(user: User) -> bool:
    return any(True for _device in devices_for_user(user, confirmed=True))


def pending_totp_device(user: User) -> TOTPDevice:
    """The authenticator-app device being enrolled, created once and reused until confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def confirm_totp(*, user: User, device: TOTPDevice, token: str) -> list[str]:
    """Confirm an authenticator app with a code from it; returns fresh recovery codes."""
    if device.user_id != user.pk or device.confirmed:
        raise AccountError(_("Start the set-up again."))
    if not device.verify_token(_digits(token)):
        raise AccountError(
            _("That code did not match. Check the time on your phone and enter the newest code.")
        )
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        record(action="mfa.totp_enrolled", actor=user, obj=user, fields=["totp_device"])
        return generate_recovery_codes(user=user)


def generate_recovery_codes(*, user: User) -> list[str]:
    """Replace the user's recovery codes with ten new single-use ones."""
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
        record(
            action="mfa.recovery_codes_generated", actor=user, obj=user, fields=["recovery_codes"]
        )
    return codes


def verify_second_factor(*, user: User, token: str) -> object | None:
    """Check a TOTP code or a recovery code. Each code works once (replay is refused)."""
    cleaned = token.strip().replace(" ", "").replace("-", "")
    if not cleaned or len(cleaned) > 16:
        return None
    for device in devices_for_user(user, confirmed=True):
        if isinstance(device, TOTPDevice | StaticDevice) and device.verify_is_allowed()[0]:
            candidate = _digits(cleaned) if isinstance(device, TOTPDevice) else cleaned.lower()
            if device.verify_token(candidate):
                return device
    return None


def reset_mfa(*, actor: User | None, membership: Membership) -> None:
    """Remove every second factor of a member, who must enrol again at the next sign-in."""
    user = membership.user
    _refuse_without_authority_over(actor, user)
    with transaction.atomic():
        _revoke_tokens(actor=actor, user=user)
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        WebAuthnCredential.objects.filter(user=user).delete()
        user.sessions_valid_after = timezone.now()
        user.save(update_fields=["sessions_valid_after"])
        record(
            action="mfa.reset",
            actor=actor,
            mission=membership.mission,
            obj=user,
            fields=["totp_device", "recovery_codes", "security_keys"],
        )
        _notify_admins(
            actor=actor, missions=_missions_of(user), subject=user, kind=AccountNoticeKind.MFA_RESET
        )


def _digits(token: str) -> str:
    return "".join(ch for ch in token if ch.isdigit())[:8]


# -- API tokens -----------------------------------------------------------------------------


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str


def create_api_token(*, user: User, mission: Mission, name: str, scope: str, days: int) -> NewToken:
    """Create a personal token; the secret is returned once and only its digest is stored."""
    if scope not in TokenScope.values:
        raise AccountError(_("Choose read only or read and write."))
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise AccountError(_("A token lasts between 1 and 365 days."))
    if not Membership.objects.filter(user=user, mission=mission).exists():
        raise AccountError(_("You are not a member of this mission."))
    prefix = random_token(8)
    secret = f"{TOKEN_PREFIX}_{prefix}_{random_token(40)}"
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            mission=mission,
            name=name.strip() or _("API token"),
            scope=scope,
            prefix=prefix,
            digest=token_digest(secret),
            expires_at=timezone.now() + timedelta(days=days),
        )
        record(
            action="token.created", actor=user, mission=mission, obj=token, fields=["name", "scope"]
        )
    return NewToken(token=token, secret=secret)


def _revoke_tokens(*, actor: User | None, user: User, mission: Mission | None = None) -> None:
    """Revoke a person's API tokens when their access is cut: tokens must not outlive it."""
    tokens = ApiToken.objects.usable().filter(user=user)
    if mission is not None:
        tokens = tokens.filter(mission=mission)
    for token in tokens:
        revoke_api_token(actor=actor, token=token)


def revoke_api_token(*, actor: User | None, token: ApiToken) -> None:
    if token.revoked_at is not None:
        return
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record(
            action="token.revoked",
            actor=actor,
            mission=token.mission_id,
            obj=token,
            fields=["revoked_at"],
        )


def authenticate_api_token(secret: str) -> ApiToken | None:
    """The usable token matching ``secret``, or None. Comparison is in constant time."""
    parts = secret.strip().split("_")
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or len(secret) > 80:
        return None
    token = (
        ApiToken.objects.usable()
        .select_related("user", "mission")
        .filter(prefix=parts[1], user__is_active=True)
        .first()
    )
    if token is None or not digests_equal(token.digest, token_digest(secret.strip())):
        return None
    if not Membership.objects.filter(user=token.user, mission=token.mission).exists():
        return None
    now = timezone.now()
    # Write the last-use time at most once a minute per token, not on every request.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
