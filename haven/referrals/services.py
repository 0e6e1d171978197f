"""Every write of the referral directory and of referrals from cases.

A referral names the defender to a third party, so it needs their consent to "refer to a
named organisation or fund" in force (``registry.consent.allows``), and the mechanism must not
be paused. Directory entries are public facts; changing one records who and when.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from haven.accounts.models import User
from haven.audit.services import record
from haven.cases.models import Case
from haven.core.models import Mission
from haven.core.vocab.assistance import ASSISTANCE
from haven.core.vocab.consent_scopes import CONSENT_SCOPES
from haven.referrals.models import Mechanism, MechanismKind, Referral, ReferralStatus
from haven.referrals.starter import CHECKED_ON, STARTER
from haven.registry import consent

REFERRAL_SCOPE = "refer_named"
MECHANISM_FIELDS = (
    "name",
    "kind",
    "support_types",
    "eligibility",
    "how_to_apply",
    "languages",
    "contact",
    "website",
    "source",
    "paused",
)
LIMITS = {
    "name": 200,
    "languages": 300,
    "contact": 500,
    "eligibility": 5000,
    "how_to_apply": 5000,
    "outcome": 10000,
}


class ReferralError(Exception):
    """A referral rule refused the change; the message says why and what to do."""


def _clean(values: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(values) - set(MECHANISM_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in unknown})
    cleaned = dict(values)
    for name, limit in LIMITS.items():
        if name in cleaned:
            cleaned[name] = str(cleaned[name]).strip()
            if len(cleaned[name]) > limit:
                raise ValidationError(
                    {name: _("This is too long: at most %(limit)d characters.") % {"limit": limit}}
                )
    if "name" in cleaned and not cleaned["name"]:
        raise ValidationError({"name": _("This is needed.")})
    if "kind" in cleaned and cleaned["kind"] not in MechanismKind.values:
        raise ValidationError({"kind": _("Choose one of the options in the list.")})
    if "support_types" in cleaned:
        try:
            ASSISTANCE.validate_list(cleaned["support_types"])
        except ValidationError as error:
            raise ValidationError({"support_types": error.messages}) from None
    return cleaned


def add_mechanism(*, mission: Mission, actor: User | None, **values: Any) -> Mechanism:
    """Add a mechanism to the mission's directory, verified today by the person adding it."""
    cleaned = _clean(values)
    if Mechanism.objects.filter(mission=mission, name__iexact=cleaned.get("name", "")).exists():
        raise ValidationError({"name": _("The directory already has a mechanism of this name.")})
    with transaction.atomic():
        mechanism = Mechanism.objects.create(
            mission=mission, last_verified_on=timezone.localdate(), **cleaned
        )
        record(
            action="referrals.mechanism_added",
            actor=actor,
            mission=mission,
            obj=mechanism,
            fields=sorted(cleaned),
        )
    return mechanism


def update_mechanism(*, mechanism: Mechanism, actor: User, changes: Mapping[str, Any]) -> list[str]:
    cleaned = _clean(changes)
    changed = [name for name, value in cleaned.items() if getattr(mechanism, name) != value]
    if changed:
        with transaction.atomic():
            for name in changed:
                setattr(mechanism, name, cleaned[name])
            mechanism.save(update_fields=[*changed, "updated_at"])
            record(
                action="referrals.mechanism_changed",
                actor=actor,
                mission=mechanism.mission_id,
                obj=mechanism,
                fields=changed,
            )
    return changed


def verify_mechanism(*, mechanism: Mechanism, actor: User, on: datetime.date | None = None) -> None:
    """Someone checked the entry against the mechanism's pages today."""
    mechanism.last_verified_on = on or timezone.localdate()
    with transaction.atomic():
        mechanism.save(update_fields=["last_verified_on", "updated_at"])
        record(
            action="referrals.mechanism_verified",
            actor=actor,
            mission=mechanism.mission_id,
            obj=mechanism,
            fields=["last_verified_on"],
        )


def seed_directory(mission: Mission) -> int:
    """Give a mission the starter directory (once: names already there are left alone)."""
    existing = set(Mechanism.objects.filter(mission=mission).values_list("name", flat=True))
    made = [
        Mechanism(
            mission=mission,
            last_verified_on=None if entry.get("unverified") else CHECKED_ON,
            **{k: v for k, v in entry.items() if k != "unverified"},
        )
        for entry in STARTER
        if entry["name"] not in existing
    ]
    Mechanism.objects.bulk_create(made)
    return len(made)


def refer(
    *,
    case: Case,
    actor: User,
    mechanism: Mechanism,
    referred_on: datetime.date | None = None,
    outcome: str = "",
) -> Referral:
    """Refer the case's defender or organisation to a mechanism of the directory."""
    if mechanism.mission_id != case.mission_id:
        raise ReferralError(_("The mechanism must be in this mission's directory."))
    if not case.is_open:
        raise ReferralError(_("This case is closed. Reopen it first."))
    if mechanism.paused:
        raise ReferralError(
            _("%(name)s is paused: it is not taking requests. Choose another mechanism.")
            % {"name": mechanism.name}
        )
    subject = case.subject
    if subject is None or not consent.allows(subject, REFERRAL_SCOPE):
        raise ReferralError(
            _("A referral needs their consent to “%(scope)s”. Record it on their page first.")
            % {"scope": CONSENT_SCOPES.label(REFERRAL_SCOPE)}
        )
    referred_on = referred_on or timezone.localdate()
    if referred_on > timezone.localdate():
        raise ValidationError({"referred_on": _("This date is in the future.")})
    outcome = outcome.strip()
    if len(outcome) > LIMITS["outcome"]:
        raise ValidationError({"outcome": _("This is too long.")})
    with transaction.atomic():
        referral = Referral.objects.create(
            mission_id=case.mission_id,
            case=case,
            data_key_id=case.data_key_id,
            recorded_by=actor,
            mechanism=mechanism,
            referred_on=referred_on,
            outcome=outcome,
        )
        record(
            action="referrals.referred",
            actor=actor,
            mission=case.mission_id,
            obj=case,
            fields=["referrals"],
            reason=str(mechanism.pk),
        )
    return referral


def update_referral(*, referral: Referral, actor: User, status: str, outcome: str) -> Referral:
    if status not in ReferralStatus.values:
        raise ValidationError({"status": _("Choose one of the options in the list.")})
    outcome = outcome.strip()
    if len(outcome) > LIMITS["outcome"]:
        raise ValidationError({"outcome": _("This is too long.")})
    with transaction.atomic():
        referral.status, referral.outcome = status, outcome
        referral.save(update_fields=["status", "outcome"])
        record(
            action="referrals.referral_changed",
            actor=actor,
            mission=referral.mission_id,
            obj=referral.case,
            fields=["referral.status", "referral.outcome"],
        )
    return referral
