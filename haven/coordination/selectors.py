"""Reads of coordination, scoped to the user: partners and bundles of the active mission, and
disclosures only of cases the user may see."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone

from haven.accounts.models import User
from haven.cases import selectors as case_selectors
from haven.coordination.models import Disclosure, Partner, ReceivedBundle
from haven.core.models import Mission
from haven.monitoring.models import Hearing, HearingStatus

RECENT = 50


def partners(user: User, mission: Mission) -> QuerySet[Partner]:
    return Partner.objects.for_user(user, mission=mission)


def usable_partners(user: User, mission: Mission) -> QuerySet[Partner]:
    """Partners bundles may go to: verified and active."""
    return partners(user, mission).filter(active=True, verified_at__isnull=False)


def received(user: User, mission: Mission) -> QuerySet[ReceivedBundle]:
    return ReceivedBundle.objects.for_user(user, mission=mission).select_related("partner")


def disclosures(user: User, mission: Mission) -> QuerySet[Disclosure]:
    """Disclosures the user may know of: rotas, and summaries of cases they can see."""
    visible = case_selectors.cases(user, mission)
    return (
        Disclosure.objects.for_user(user, mission=mission)
        .filter(Q(case__isnull=True) | Q(case__in=visible))
        .select_related("partner", "case", "created_by")
    )


def upcoming_hearings(user: User, mission: Mission) -> list[Hearing]:
    """Scheduled hearings still to come, of cases the user may see, soonest first."""
    rows = (
        Hearing.objects.for_user(user, mission=mission)
        .filter(
            case__in=case_selectors.cases(user, mission),
            status=HearingStatus.SCHEDULED,
            starts_at__gte=timezone.now(),
        )
        .select_related("case", "case__defender", "case__organisation")
        .order_by("starts_at", "pk")
    )
    return list(rows)
