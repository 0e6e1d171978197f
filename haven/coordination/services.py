"""Every write of coordination with partner missions: partners, disclosures and imports.

A bundle goes only to a verified, active partner, carries only what the defender's consent
allows (``coordination.bundles``), and every one sent is a ``Disclosure`` row and an audit
event with its reason. A bundle arriving is opened by ``haven.crypto.identity``: refused
(and the refusal audited, without contents) unless it is intact, signed by a verified
partner and addressed to this mission; a bundle already imported is recognised, not stored
twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from haven.accounts.models import User
from haven.audit.services import record
from haven.cases.models import Case
from haven.coordination import bundles
from haven.coordination.models import (
    BundleKind,
    Disclosure,
    DisclosureReason,
    Partner,
    ReceivedBundle,
)
from haven.core.models import Mission
from haven.crypto.commits import keys_first
from haven.crypto.datakeys import new_data_key
from haven.crypto.errors import BundleError, KeyCardError
from haven.crypto.identity import (
    PublicIdentity,
    bundle_addresses,
    key_card,
    mission_identity,
    open_bundle,
    parse_key_card,
    sign_and_encrypt,
)
from haven.crypto.models import MissionIdentity
from haven.monitoring.models import Hearing

# Base64 of a bundle rides back in the preview form: it must stay under the request cap.
MAX_BUNDLE_BYTES = 1024 * 1024
CODE_MAX = 20


class CoordinationError(Exception):
    """A coordination rule refused the change; the message says why and what to do."""


class BundleRefused(CoordinationError):
    """A received bundle was not imported; ``code`` is what the audit log records."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


# -- this mission's keys


def our_identity(*, mission: Mission, actor: User | None) -> MissionIdentity:
    """The mission's identity keys, made (and the making audited) on first use."""
    with transaction.atomic():
        identity = mission_identity(mission)
        if getattr(identity, "created_now", False):
            record(
                action="coordination.identity_created",
                actor=actor,
                mission=mission,
                obj=identity,
                reason=identity.fingerprint,
            )
    return identity


def our_key_card(*, mission: Mission, actor: User | None) -> str:
    our_identity(mission=mission, actor=actor)
    return key_card(mission)


# -- partners


def add_partner(
    *, mission: Mission, actor: User, card: str, code: str, country: str = ""
) -> Partner:
    """Register a partner from the key card it sent. It starts unverified."""
    try:
        parsed = parse_key_card(card)
    except KeyCardError as error:
        raise ValidationError({"card": str(error)}) from None
    code = code.strip()
    if not code or len(code) > CODE_MAX:
        raise ValidationError({"code": _("Give a short code of at most 20 characters.")})
    country = country.strip().upper()
    if country and (len(country) != 2 or not country.isalpha()):
        raise ValidationError({"country": _("Use the two-letter ISO 3166 country code.")})
    own = our_identity(mission=mission, actor=actor)
    if parsed.fingerprint == own.fingerprint:
        raise ValidationError(
            {"card": _("This is your own mission's key card. Paste the partner's card.")}
        )
    existing = Partner.objects.filter(mission=mission, fingerprint=parsed.fingerprint).first()
    if existing is not None:
        raise ValidationError(
            {"card": _("This key card is already registered, as %(name)s.") % {"name": existing}}
        )
    if Partner.objects.filter(mission=mission, code__iexact=code).exists():
        raise ValidationError({"code": _("Another partner already has this code.")})
    with transaction.atomic():
        partner = Partner.objects.create(
            mission=mission,
            name=parsed.name,
            code=code,
            country=country,
            signing_public_key=parsed.identity.signing_key,
            box_public_key=parsed.identity.box_key,
            fingerprint=parsed.fingerprint,
            added_by=actor,
        )
        record(
            action="coordination.partner_added",
            actor=actor,
            mission=mission,
            obj=partner,
            fields=["name", "code", "country", "signing_public_key", "box_public_key"],
            reason=partner.fingerprint,
        )
    return partner


def verify_partner(*, partner: Partner, actor: User) -> Partner:
    """An admin compared the fingerprint with the partner over another channel."""
    if partner.verified:
        return partner
    with transaction.atomic():
        partner.verified_at, partner.verified_by = timezone.now(), actor
        partner.save(update_fields=["verified_at", "verified_by"])
        record(
            action="coordination.partner_verified",
            actor=actor,
            mission=partner.mission_id,
            obj=partner,
            fields=["verified_at"],
            reason=partner.fingerprint,
        )
    return partner


def set_partner_active(*, partner: Partner, actor: User, active: bool) -> Partner:
    """Stop (or resume) exchanging bundles with a partner, keeping its history."""
    if partner.active == active:
        return partner
    with transaction.atomic():
        partner.active = active
        partner.save(update_fields=["active"])
        record(
            action="coordination.partner_activated" if active else "coordination.partner_paused",
            actor=actor,
            mission=partner.mission_id,
            obj=partner,
            fields=["active"],
        )
    return partner


def _usable(partner: Partner, mission_id: int) -> None:
    if partner.mission_id != mission_id:
        raise CoordinationError(_("Choose one of this mission's partners."))
    if not partner.verified:
        raise CoordinationError(
            _("%(name)s is not verified yet. Compare its fingerprint with it first.")
            % {"name": partner.name}
        )
    if not partner.active:
        raise CoordinationError(
            _("Exchanges with %(name)s are paused. Resume them on its page first.")
            % {"name": partner.name}
        )


def _reason(reason: str) -> str:
    if reason not in DisclosureReason.values:
        raise ValidationError({"reason": _("Choose one of the options in the list.")})
    return reason


def _encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# -- sending


def send_case_summary(
    *, case: Case, partner: Partner, actor: User, reason: str
) -> tuple[Disclosure, bytes]:
    """A case summary for ``partner``, signed and encrypted; recorded as a disclosure."""
    reason = _reason(reason)
    _usable(partner, case.mission_id)
    try:
        basis = bundles.consent_basis(case.subject, partner)
    except bundles.ConsentMissing as error:
        raise CoordinationError(str(error)) from None
    payload, fields = bundles.case_summary(case, partner, basis)
    blob = sign_and_encrypt(_encode(payload), sender=case.mission, recipient=partner.identity)
    with transaction.atomic():
        disclosure = Disclosure.objects.create(
            mission_id=case.mission_id,
            partner=partner,
            kind=BundleKind.CASE_SUMMARY,
            case=case,
            bundle_uuid=payload["bundle"],
            reason=reason,
            consent_basis=basis,
            fields=fields,
            created_by=actor,
        )
        record(
            action="coordination.disclosed",
            actor=actor,
            mission=case.mission_id,
            obj=case,
            fields=fields,
            reason=f"{reason}; partner {partner.pk}; bundle {disclosure.bundle_uuid}; {basis}",
        )
    return disclosure, blob


def rota_hearings(hearings: list[Hearing], partner: Partner) -> list[Hearing]:
    """The hearings whose defender's consent names ``partner``: only those may go in a rota."""
    allowed: dict[int, bool] = {}
    kept = []
    for hearing in hearings:
        case = hearing.case
        if case.pk not in allowed:
            try:
                allowed[case.pk] = (
                    bundles.consent_basis(case.subject, partner) == bundles.ConsentBasis.NAMED
                )
            except bundles.ConsentMissing:
                allowed[case.pk] = False
        if allowed[case.pk]:
            kept.append(hearing)
    return kept


def send_rota(
    *,
    mission: Mission,
    partner: Partner,
    actor: User,
    reason: str,
    lines: list[tuple[Hearing, str]],
) -> tuple[Disclosure, bytes]:
    """A trial-observation rota for ``partner``: hearings and who observes each."""
    reason = _reason(reason)
    _usable(partner, mission.pk)
    if not lines:
        raise CoordinationError(_("Choose at least one hearing for the rota."))
    if any(observer not in bundles.OBSERVERS for _hearing, observer in lines):
        raise ValidationError(_("Choose who observes each hearing from the list."))
    hearings = [hearing for hearing, _observer in lines]
    if any(h.mission_id != mission.pk for h in hearings) or len(
        rota_hearings(hearings, partner)
    ) != len(hearings):
        raise CoordinationError(
            _(
                "A hearing in the rota is of a case whose consent does not name %(partner)s. "
                "Leave it out, or record their consent first."
            )
            % {"partner": partner.name}
        )
    payload, fields = bundles.rota(mission, partner, lines)
    blob = sign_and_encrypt(_encode(payload), sender=mission, recipient=partner.identity)
    with transaction.atomic():
        disclosure = Disclosure.objects.create(
            mission=mission,
            partner=partner,
            kind=BundleKind.ROTA,
            bundle_uuid=payload["bundle"],
            reason=reason,
            consent_basis=bundles.ConsentBasis.NAMED,
            fields=fields,
            hearing_count=len(lines),
            created_by=actor,
        )
        for case in {hearing.case_id: hearing.case for hearing in hearings}.values():
            record(
                action="coordination.disclosed",
                actor=actor,
                mission=mission,
                obj=case,
                fields=fields,
                reason=f"{reason}; partner {partner.pk}; bundle {disclosure.bundle_uuid}; rota",
            )
    return disclosure, blob


# -- receiving


@dataclass(frozen=True)
class Opened:
    """A bundle that opened: who sent it, what it holds, and whether it was imported before."""

    partner: Partner
    envelope: bundles.Envelope
    payload: dict[str, Any]
    already: ReceivedBundle | None

    @property
    def kind(self) -> str:
        return (
            BundleKind.ROTA
            if self.envelope.schema == bundles.ROTA_SCHEMA
            else BundleKind.CASE_SUMMARY
        )

    def reading(self) -> bundles.Reading:
        return bundles.read_payload(
            self.payload, sender=self.partner.name, recipient=self.partner.mission.name
        )


def _refuse(mission: Mission, actor: User, message: str, code: str) -> BundleRefused:
    record(action="coordination.bundle_refused", actor=actor, mission=mission, reason=code)
    return BundleRefused(message, code)


def open_received(*, mission: Mission, actor: User, blob: bytes) -> Opened:
    """Verify and read a bundle; refuse it (audited, nothing stored) unless it is sound."""
    if len(blob) > MAX_BUNDLE_BYTES:
        raise _refuse(
            mission, actor, _("This file is too large to be a Haven bundle."), "too_large"
        )
    try:
        sender_fingerprint, _recipient = bundle_addresses(blob)
        partner = Partner.objects.filter(mission=mission, fingerprint=sender_fingerprint).first()
        if partner is not None and not partner.usable:
            raise _refuse(
                mission,
                actor,
                _(
                    "This bundle comes from %(name)s, which is not verified or is paused. Nothing "
                    "was imported. Verify the partner's fingerprint first."
                )
                % {"name": partner.name},
                "unverified_sender",
            )
        usable = Partner.objects.filter(mission=mission, active=True, verified_at__isnull=False)
        known: dict[str, PublicIdentity] = {p.fingerprint: p.identity for p in usable}
        our_identity(mission=mission, actor=actor)
        _sender, data = open_bundle(blob, recipient=mission, known_senders=known)
    except BundleError as error:
        raise _refuse(mission, actor, str(error), error.code) from None
    try:
        payload = json.loads(data.decode("utf-8"))
        envelope = bundles.check_payload(payload)
    except (ValueError, bundles.MalformedPayload) as error:
        message = str(error) if isinstance(error, bundles.MalformedPayload) else ""
        raise _refuse(
            mission,
            actor,
            message or _("The bundle's contents are not in the form Haven writes."),
            "malformed",
        ) from None
    assert partner is not None  # open_bundle accepted only a known, usable sender
    already = ReceivedBundle.objects.filter(
        mission=mission, bundle_uuid=envelope.bundle_uuid
    ).first()
    return Opened(partner=partner, envelope=envelope, payload=payload, already=already)


def import_bundle(*, mission: Mission, actor: User, blob: bytes) -> tuple[ReceivedBundle, bool]:
    """Store a verified bundle with its provenance; (row, False) if it was imported before."""
    opened = open_received(mission=mission, actor=actor, blob=blob)
    if opened.already is not None:
        return opened.already, False
    try:
        with keys_first():
            received = ReceivedBundle.objects.create(
                mission=mission,
                data_key=new_data_key(),
                partner=opened.partner,
                kind=opened.kind,
                bundle_uuid=opened.envelope.bundle_uuid,
                sender_fingerprint=opened.partner.fingerprint,
                sent_at=opened.envelope.created_at,
                received_by=actor,
                payload=opened.payload,
            )
            record(
                action="coordination.bundle_imported",
                actor=actor,
                mission=mission,
                obj=received,
                fields=["payload"],
                reason=(
                    f"{received.kind}; partner {opened.partner.pk}; bundle {received.bundle_uuid}"
                ),
            )
    except IntegrityError:
        # Imported by someone else a moment ago.
        found = ReceivedBundle.objects.get(mission=mission, bundle_uuid=opened.envelope.bundle_uuid)
        return found, False
    return received, True
