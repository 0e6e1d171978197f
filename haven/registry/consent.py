"""The one question every app asks before using a defender's information: is it allowed?

``allows(subject, scope)`` is true when a consent record for that scope exists that was given
on or before the day asked about, has not expired by then, and has not been withdrawn.
Nothing else grants consent: no default, no role, no override.
"""

from __future__ import annotations

import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from haven.core.vocab.consent_scopes import CONSENT_SCOPES
from haven.registry.models import ConsentRecord, Defender, Organisation


def records_of(subject: Defender | Organisation) -> QuerySet[ConsentRecord]:
    if isinstance(subject, Defender):
        return ConsentRecord.objects.filter(defender=subject)
    return ConsentRecord.objects.filter(organisation=subject)


def in_force(on: datetime.date | None = None) -> Q:
    """Consent records in force on ``on`` (today in the active time zone by default)."""
    day = on or timezone.localdate()
    return Q(withdrawn_at__isnull=True, given_on__lte=day) & (
        Q(expires_on__isnull=True) | Q(expires_on__gte=day)
    )


def allows(
    subject: Defender | Organisation, scope: str, *, on: datetime.date | None = None
) -> bool:
    """Whether ``subject`` has consented to ``scope`` and the consent is in force on ``on``."""
    CONSENT_SCOPES.validate(scope)
    return records_of(subject).filter(in_force(on), scope=scope).exists()


def scopes_in_force(
    subject: Defender | Organisation, *, on: datetime.date | None = None
) -> set[str]:
    """Every scope ``subject`` has consented to that is in force on ``on``."""
    return set(records_of(subject).filter(in_force(on)).values_list("scope", flat=True))
