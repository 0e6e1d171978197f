"""Reads about staff accounts, each scoped to the person asking."""

from __future__ import annotations

import base64
from typing import Any

import segno
from django.db.models import Count, QuerySet
from django.utils.safestring import mark_safe
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from haven.accounts.models import AccountNotice, ApiToken, Membership, User
from haven.core.models import Mission


def enrolment_context(device: TOTPDevice, form: Any) -> dict[str, Any]:
    """What the enrolment page shows: a QR code (inline SVG, no script) and the secret."""
    secret = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    svg = segno.make(device.config_url, error="m").svg_inline(
        scale=4, dark="#000", light="#fff", border=2
    )
    return {
        "form": form,
        "secret": grouped,
        "config_url": device.config_url,
        # segno builds the SVG from the otpauth URL alone; nothing user-typed goes in.
        "qr_svg": mark_safe(svg),  # noqa: S308
    }


def security_context(user: User) -> dict[str, Any]:
    return {
        "totp_devices": TOTPDevice.objects.filter(user=user, confirmed=True),
        "recovery_codes_left": StaticToken.objects.filter(device__user=user).count(),
        "security_keys": WebAuthnCredential.objects.filter(user=user, confirmed=True),
    }


def members_of(user: User, mission: Mission) -> QuerySet[Membership]:
    return (
        Membership.objects.for_user(user, mission=mission)
        .select_related("user")
        .order_by("user__username")
    )


def tokens_of(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.for_user(user).select_related("mission")


def membership_of(user: User, mission_id: int) -> Membership | None:
    return Membership.objects.filter(user=user, mission_id=mission_id).first()


def has_security_key(user: User) -> bool:
    return WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()


def member_counts(mission: Mission) -> dict[str, int]:
    rows = Membership.objects.filter(mission=mission).values("role").annotate(n=Count("id"))
    return {row["role"]: row["n"] for row in rows}


def account_notices(user: User, mission: Mission) -> QuerySet[AccountNotice]:
    """The notices about others' access still on ``user``'s desk in ``mission``, newest first."""
    return (
        AccountNotice.objects.for_user(user, mission=mission)
        .unread()
        .select_related("actor", "subject")
        .order_by("-created_at", "-pk")
    )
