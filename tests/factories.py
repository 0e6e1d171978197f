"""Plain functions that make the rows tests need, through the real services where one exists."""

from __future__ import annotations

import itertools
from typing import Any

from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from haven.accounts.decorators import REAUTH_SESSION_KEY
from haven.accounts.models import Membership, User
from haven.core.models import Mission

PASSWORD = "correct horse battery staple 42"
_counter = itertools.count(1)


def make_mission(**fields: Any) -> Mission:
    n = next(_counter)
    values = {"name": f"Mission {n}", "slug": f"mission-{n}", "country": "KE"}
    values.update(fields)
    return Mission.objects.create(**values)


def make_user(
    mission: Mission | None = None, role: str = "officer", *, with_totp: bool = True, **fields: Any
) -> User:
    n = next(_counter)
    user = User(username=fields.pop("username", f"staff{n}"), **fields)
    user.set_password(PASSWORD)
    user.save()
    if mission is not None:
        Membership.objects.create(user=user, mission=mission, role=role)
    if with_totp:
        TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    return user


def totp_code(user: User, *, offset_steps: int = 0) -> str:
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = timezone.now().timestamp() + offset_steps * device.step
    return str(totp.token()).zfill(device.digits)


def signed_in_client(
    user: User, client: Client | None = None, *, reauthenticated: bool = False
) -> Client:
    """A client past password and second factor, as after a real sign-in; optionally also
    past a fresh re-authentication, as sensitive pages ask."""
    client = client or Client()
    client.force_login(user)
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    if reauthenticated:
        session[REAUTH_SESSION_KEY] = timezone.now().timestamp()
    session.save()
    return client


def api_client(user: User, mission: Mission, *, scope: str = "write") -> Client:
    """A client that speaks to the API with a fresh personal token of ``user`` in ``mission``."""
    from haven.accounts.services import create_api_token

    token = create_api_token(user=user, mission=mission, name="test", scope=scope, days=5)
    return Client(headers={"Authorization": f"Bearer {token.secret}"})


class all_queries:
    """Counts queries on every database (the data and the key store) inside a ``with``."""

    def __enter__(self) -> all_queries:
        from django.db import connections
        from django.test.utils import CaptureQueriesContext

        self._contexts = [CaptureQueriesContext(connections[alias]) for alias in connections]
        for context in self._contexts:
            context.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        for context in self._contexts:
            context.__exit__(*exc)

    @property
    def count(self) -> int:
        return sum(len(context) for context in self._contexts)


def make_defender(mission: Mission, *, actor: User | None = None, **fields: Any) -> Any:
    """A defender created through the registry's service (duplicates allowed)."""
    from haven.registry.services import ChannelInput, create_defender

    n = next(_counter)
    channels = [ChannelInput(*spec) for spec in fields.pop("channels", [])]
    values = {"name": f"Defender {n}", **fields}
    return create_defender(
        mission=mission, actor=actor, channels=channels, allow_duplicates=True, **values
    )


def make_organisation(mission: Mission, *, actor: User | None = None, **fields: Any) -> Any:
    from haven.registry.services import ChannelInput, create_organisation

    n = next(_counter)
    channels = [ChannelInput(*spec) for spec in fields.pop("channels", [])]
    values = {"name": f"Organisation {n}", "kind": "registered", **fields}
    return create_organisation(
        mission=mission, actor=actor, channels=channels, allow_duplicates=True, **values
    )


def make_partner(
    mission: Mission,
    partner_mission: Mission,
    *,
    actor: User,
    code: str = "",
    verified: bool = True,
) -> Any:
    """``partner_mission`` registered as a partner of ``mission`` from its key card."""
    from haven.coordination import services

    card = services.our_key_card(mission=partner_mission, actor=None)
    partner = services.add_partner(
        mission=mission, actor=actor, card=card, code=code or f"P{next(_counter)}"
    )
    if verified:
        services.verify_partner(partner=partner, actor=actor)
    return partner


def make_received_bundle(
    mission: Mission,
    sender: Mission,
    *,
    actor: User,
    name: str = "Sent defender",
    title: str = "Sent case",
    summary: str = "",
) -> Any:
    """A case summary ``sender`` made for ``mission`` (each the other's verified partner),
    imported at ``mission`` by ``actor``, through the services both sides use."""
    from haven.cases.services import open_case
    from haven.coordination import services
    from haven.coordination.models import Partner
    from haven.registry.services import record_consent

    sender_admin = make_user(sender, "admin")
    to_mission = make_partner(sender, mission, actor=sender_admin)
    sender_key = services.our_identity(mission=sender, actor=None).fingerprint
    if not Partner.objects.filter(mission=mission, fingerprint=sender_key).exists():
        make_partner(mission, sender, actor=actor)
    defender = make_defender(sender, name=name)
    record_consent(
        entry=defender,
        actor=sender_admin,
        scope="share_missions",
        channel="in_person",
        given_on=timezone.localdate(),
        detail=to_mission.code,
    )
    case = open_case(
        mission=sender,
        actor=sender_admin,
        title=title,
        summary=summary,
        urgency="medium",
        defender=defender,
    )
    _disclosure, blob = services.send_case_summary(
        case=case, partner=to_mission, actor=sender_admin, reason="protection"
    )
    received, _created = services.import_bundle(mission=mission, actor=actor, blob=blob)
    return received


PORTAL_FORMS = {
    "intake_portal:request": "request",
    "intake_portal:receipt": "receipt",
    "intake_portal:receipt_message": "message",
    "intake_portal:receipt_delete": "deletion",
}


def portal_post(client: Client, name: str, data: dict[str, Any], **extra: Any) -> Any:
    """Post a portal form as a browser would: with a form token issued for it (the suite's
    settings take tokens at any age; tests of the ages set their own)."""
    from django.urls import reverse

    from haven.intake import tokens

    token = tokens.issue(PORTAL_FORMS[name])
    # First, as a browser sends the form's hidden fields before the files.
    return client.post(reverse(name), {"form_token": token, **data}, **extra)
