"""The tenant (``Mission``) and the base every mission-owned row stands on.

A mission-scoped row is only ever reached through ``Model.objects.for_user(user)``, which
keeps the rows of missions where the user holds one of the allowed roles and nothing else.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar, Self

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import translation
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from haven.accounts.models import User

# Roles that may read and write a mission's case data. Viewers see aggregates only and
# auditors the audit log only, so neither reaches domain rows through ``for_user``.
CASEWORK_ROLES: frozenset[str] = frozenset({"admin", "officer"})

LANGUAGE_CODES = frozenset(code for code, _name in settings.LANGUAGES)


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("“%(value)s” is not a known time zone."), params={"value": value})


def validate_portal_languages(value: Any) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError(_("Choose at least one language for the portal."))
    unknown = [code for code in value if code not in LANGUAGE_CODES]
    if unknown:
        raise ValidationError(
            _("Unknown language codes: %(codes)s."), params={"codes": ", ".join(map(str, unknown))}
        )


def default_portal_languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


class MissionQuerySet(models.QuerySet):
    def for_user(self, user: User | AnonymousUser) -> Self:
        """Missions the user belongs to, in any role."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        return self.filter(memberships__user=user)


class Mission(models.Model):
    """A diplomatic mission: the tenant that owns every case, defender and audit event."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("short name"), max_length=60, unique=True)
    country = models.CharField(
        _("host country"),
        max_length=2,
        validators=[RegexValidator(r"^[A-Z]{2}$", _("Use the two-letter ISO 3166 country code."))],
        help_text=_("Two-letter ISO 3166 code, for example KE."),
    )
    timezone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[validate_timezone]
    )
    portal_languages = models.JSONField(
        _("portal languages"),
        default=default_portal_languages,
        validators=[validate_portal_languages],
    )
    # Published on the public portal; the mission's own contact points, never a defender's.
    public_contact = models.TextField(_("public contact details"), blank=True)
    # Every portal page links here, for a visitor who must leave the site in a hurry.
    quick_exit_url = models.URLField(
        _("quick-exit address"),
        default="https://www.wikipedia.org/",
        help_text=_("A neutral, common site that portal visitors reach with one click."),
    )
    # Abuse limits of the portal, counted for the whole mission and never per visitor or IP
    # address (behind Tor every visitor is the same address): two budgets, so that someone
    # guessing receipts can never close the portal to requests (docs/portal-limits.md).
    portal_receipt_limit = models.PositiveIntegerField(
        _("receipt checks per minute for the whole portal"),
        default=30,
        help_text=_(
            "Each check of a receipt costs the server real work, right or wrong. Beyond this, "
            "people checking a receipt are asked to wait a minute; sending requests is not "
            "affected."
        ),
    )
    portal_hourly_limit = models.PositiveIntegerField(
        _("requests accepted per hour for the whole portal"),
        default=600,
        help_text=_(
            "Only requests actually received count. Beyond this, people are asked to send "
            "again a little later, and what they wrote is kept on their screen."
        ),
    )
    # Files sent through the portal are always cleaned; with this on, the original is also
    # kept, sealed, and opening it needs a stated reason (evidence, for example).
    keep_originals = models.BooleanField(
        _("keep the original of cleaned files"),
        default=False,
        help_text=_(
            "The original keeps its hidden data (place, time, author). Opening it is logged "
            "with a reason."
        ),
    )
    # How fast a case must get a first response, by urgency (DOMAIN.md: cases are run by the
    # mission's policy, not by who happens to hold them).
    response_hours_critical = models.PositiveIntegerField(
        _("hours to respond to a critical case"), default=24
    )
    response_hours_high = models.PositiveIntegerField(
        _("hours to respond to a high-urgency case"), default=72
    )
    response_hours_medium = models.PositiveIntegerField(
        _("hours to respond to a medium-urgency case"), default=7 * 24
    )
    response_hours_low = models.PositiveIntegerField(
        _("hours to respond to a low-urgency case"), default=30 * 24
    )
    no_contact_days = models.PositiveIntegerField(
        _("days without contact before a high-risk defender is flagged"),
        default=14,
        help_text=_("Defenders at high or critical risk show on the desk after this long."),
    )
    # Reports (ARCHITECTURE.md: aggregate numbers have their small cells suppressed).
    capital_region = models.CharField(
        _("region of the capital"),
        max_length=100,
        blank=True,
        help_text=_(
            "As written in defenders' records. Dashboards show how much of the mission's reach "
            "is outside it."
        ),
    )
    suppress_below = models.PositiveIntegerField(
        _("hide counts below"),
        default=5,
        validators=[MinValueValidator(3), MaxValueValidator(50)],
        help_text=_(
            "Dashboards and de-identified exports show any smaller count as “fewer than” this, "
            "so no one can be picked out."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = models.Manager.from_queryset(MissionQuerySet)()

    class Meta:
        ordering: ClassVar = ["name"]
        verbose_name = _("mission")
        verbose_name_plural = _("missions")

    def __str__(self) -> str:
        return self.name

    def response_hours(self, urgency: str) -> int:
        """Hours the mission gives itself to respond to a case of ``urgency``."""
        return int(getattr(self, f"response_hours_{urgency}"))


def memberships_read(user: User | AnonymousUser) -> list[Any] | None:
    """The user's memberships as the workspace gate read them for this request
    (``accounts.middleware``), or None where nothing read them (commands, services, the API):
    scopes then ask the database. The same request's rows, so the same answer as a query."""
    return getattr(user, "_haven_memberships", None)


class MissionScopedQuerySet(models.QuerySet):
    """Queries that can only see the missions a user works in."""

    def for_user(
        self,
        user: User | AnonymousUser,
        *,
        mission: Mission | None = None,
        roles: Iterable[str] = CASEWORK_ROLES,
    ) -> Self:
        if not user.is_authenticated or not user.is_active:
            return self.none()
        known = memberships_read(user)
        if known is not None:
            # The missions as numbers: PostgreSQL plans the join through the mission and its
            # memberships anew on every query, a few milliseconds each on a busy page.
            wanted = set(roles)
            scoped = self.filter(
                mission_id__in=sorted({m.mission_id for m in known if m.role in wanted})
            )
        else:
            scoped = self.filter(
                mission__memberships__user=user, mission__memberships__role__in=list(roles)
            )
        if mission is not None:
            scoped = scoped.filter(mission=mission)
        return scoped


MissionScopedManager = models.Manager.from_queryset(MissionScopedQuerySet)


class ChoiceLabels:
    """``get_FOO_display()`` from labels translated once per field and language.

    Django rebuilds a field's whole list of choices and translates every label on each call;
    a list of fifty cases calls it a few hundred times. Every field with choices in Haven has
    a fixed list, so its labels only change with the language.
    """

    _labels: ClassVar[dict[tuple[str, str, str], dict[Any, str]]] = {}

    def _get_FIELD_display(self, field: models.Field) -> Any:
        key = (field.model._meta.label, field.name, translation.get_language() or "")
        labels = ChoiceLabels._labels.get(key)
        if labels is None:
            labels = {
                make_hashable(value): force_str(label, strings_only=True)
                for value, label in field.flatchoices
            }
            ChoiceLabels._labels[key] = labels
        value = getattr(self, field.attname)
        return labels.get(make_hashable(value), value)


class MissionScopedModel(ChoiceLabels, models.Model):
    """Base of every mission-owned domain row."""

    mission = models.ForeignKey(Mission, on_delete=models.PROTECT, related_name="+")

    objects = MissionScopedManager()

    class Meta:
        abstract = True
