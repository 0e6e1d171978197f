"""Reads of the registry, always within the user's mission and role.

List pages decrypt only the rows on the page: the page's rows come in one query and their
data keys in one more (from the key store), so the number of queries does not grow with the
page size. Search is exact, through blind indexes: a name, a phone number or an e-mail address.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.utils import timezone

from haven.accounts.models import User
from haven.core.fields import has_code
from haven.core.models import Mission
from haven.crypto.blindindex import blind_index
from haven.crypto.datakeys import prime_data_keys
from haven.registry.consent import in_force
from haven.registry.models import ConsentRecord, ContactChannel, Defender, Organisation

PAGE_SIZE = 50
EXPIRY_WARNING_DAYS = 30


def defenders(user: User, mission: Mission) -> QuerySet[Defender]:
    return Defender.objects.for_user(user, mission=mission)


def organisations(user: User, mission: Mission) -> QuerySet[Organisation]:
    return Organisation.objects.for_user(user, mission=mission)


@dataclass(frozen=True)
class RegistryFilters:
    """What a list page was asked for; empty values filter nothing."""

    q: str = ""
    work_focus: str = ""
    region: str = ""
    risk_level: str = ""
    visibility: str = ""
    organisation: int | None = None

    @property
    def active(self) -> bool:
        return any([self.q, self.work_focus, self.region, self.risk_level, self.visibility]) or (
            self.organisation is not None
        )


def search_query(q: str, owner: str) -> Q:
    """Rows whose name, or one of whose phone numbers or e-mail addresses, is exactly ``q``."""
    lookups = [index for index in (blind_index(q, "phone"), blind_index(q, "email")) if index]
    condition = Q(name_index=blind_index(q, "name"))
    if lookups:
        owners = ContactChannel.objects.filter(lookup__in=lookups).values(owner)
        condition |= Q(pk__in=owners)
    return condition


def _filtered(rows: QuerySet[Any], filters: RegistryFilters, owner: str) -> QuerySet[Any]:
    if filters.q.strip():
        rows = rows.filter(search_query(filters.q, owner))
    if filters.work_focus:
        rows = rows.filter(has_code("work_focus", filters.work_focus))
    if filters.region:
        rows = rows.filter(region__iexact=filters.region)
    if filters.risk_level:
        rows = rows.filter(risk_level=filters.risk_level)
    if filters.visibility:
        rows = rows.filter(visibility=filters.visibility)
    if filters.organisation is not None:
        if owner == "defender":
            rows = rows.filter(
                pk__in=Defender.objects.filter(
                    affiliations__organisation_id=filters.organisation
                ).values("pk")
            )
        else:
            rows = rows.filter(pk=filters.organisation)
    return rows


def _page(rows: QuerySet[Any], number: Any) -> Page:
    # The data keys of the page's rows in one query: decrypting the names costs no more.
    paginator = Paginator(rows.prefetch_related("data_key"), PAGE_SIZE)
    return paginator.get_page(number)


def defender_page(user: User, mission: Mission, filters: RegistryFilters, number: Any = 1) -> Page:
    return _page(_filtered(defenders(user, mission), filters, "defender"), number)


def organisation_page(
    user: User, mission: Mission, filters: RegistryFilters, number: Any = 1
) -> Page:
    return _page(_filtered(organisations(user, mission), filters, "organisation"), number)


def regions(user: User, mission: Mission) -> list[str]:
    """The regions already used in the mission's registry, for the filter's choices."""
    found: set[str] = set()
    for rows in (defenders(user, mission), organisations(user, mission)):
        found.update(rows.exclude(region="").order_by().values_list("region", flat=True).distinct())
    return sorted(found, key=str.casefold)


def expiring_consents(
    user: User, mission: Mission, *, today: datetime.date | None = None, limit: int = 20
) -> list[ConsentRecord]:
    """Consent in force that expires within 30 days, soonest first, with its subject."""
    today = today or timezone.localdate()
    horizon = today + datetime.timedelta(days=EXPIRY_WARNING_DAYS)
    rows = list(
        ConsentRecord.objects.for_user(user, mission=mission)
        .filter(in_force(today), expires_on__isnull=False, expires_on__lte=horizon)
        .select_related("defender", "organisation")
        .order_by("expires_on", "pk")[:limit]
    )
    # One query for the keys of the consents and of their subjects.
    subjects = [row.defender or row.organisation for row in rows]
    prime_data_keys([row.data_key_id for row in rows] + [s.data_key_id for s in subjects if s])
    return rows
