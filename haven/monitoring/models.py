"""Trial and detention monitoring, and the civic-space and reprisal register.

Hearings, observation reports, detentions and visits belong to a case: they are encrypted under
the case's key and seen by whoever sees the case (``CaseRow``). Civic-space events are data
subjects of their own (a raid or a law concerns many people): their description is encrypted
under their own key; what the reprisal register exports (kind, dates, region, source,
reliability) is plain and identifies no one.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from haven.cases.models import Case, CaseRow, Reliability, SourceType
from haven.core.models import MissionScopedModel
from haven.crypto.fields import EncryptedJSONField, EncryptedTextField
from haven.crypto.models import EncryptedModel
from haven.registry.models import Defender


class Tribunal(models.TextChoices):
    CIVILIAN = "civilian", _("Civilian court")
    MILITARY = "military", _("Military court")
    SPECIAL = "special", _("Special court or tribunal")


class HearingStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    HELD = "held", _("Held")
    POSTPONED = "postponed", _("Postponed")
    CANCELLED = "cancelled", _("Cancelled")


class Hearing(CaseRow):
    """A court date in a case, with who observes it."""

    court = EncryptedTextField(_("court"), help_text=_("Court and room. Kept encrypted."))
    tribunal = models.CharField(
        _("kind of tribunal"), max_length=10, choices=Tribunal.choices, default=Tribunal.CIVILIAN
    )
    starts_at = models.DateTimeField(_("date and time"), db_index=True)
    status = models.CharField(
        _("status"), max_length=10, choices=HearingStatus.choices, default=HearingStatus.SCHEDULED
    )
    observers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("observers")
    )
    partner_observers = EncryptedTextField(
        _("observers from partner missions"),
        blank=True,
        help_text=_("Which like-minded missions send someone, one per line."),
    )
    # The hearing this one replaces, when a court postponed it.
    postponed_from = models.OneToOneField(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="postponed_to"
    )

    class Meta:
        ordering: ClassVar = ["starts_at", "pk"]
        verbose_name = _("hearing")
        verbose_name_plural = _("hearings")

    def __str__(self) -> str:
        return f"{self.case} · {self.starts_at:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("monitoring:hearing", kwargs={"hearing_id": self.pk})


class Assessment(models.TextChoices):
    RESPECTED = "respected", _("Respected")
    VIOLATED = "violated", _("Violated")
    NOT_OBSERVABLE = "not_observable", _("Not observable")
    NOT_APPLICABLE = "not_applicable", _("Not applicable")


class Access(models.TextChoices):
    GRANTED = "granted", _("Granted")
    PARTIAL = "partial", _("Partly granted")
    DENIED = "denied", _("Denied")


class ObservationReport(CaseRow):
    """The observer's report on a hearing: the fair-trial checklist and what happened."""

    hearing = models.OneToOneField(Hearing, on_delete=models.CASCADE, related_name="report")
    # {item code: {"assessment": Assessment, "notes": "…"}} for the items of FAIR_TRIAL.
    checklist = EncryptedJSONField(_("fair-trial checklist"), default=dict)
    summary = EncryptedTextField(_("what happened"))
    access = models.CharField(_("access for observers"), max_length=10, choices=Access.choices)
    authorities_informed = models.BooleanField(
        _("the authorities were told of the observation"), default=False
    )

    class Meta:
        verbose_name = _("observation report")
        verbose_name_plural = _("observation reports")


class CounselStatus(models.TextChoices):
    NONE = "none", _("No lawyer")
    CHOSEN = "chosen", _("A lawyer of their choice")
    APPOINTED = "appointed", _("A lawyer appointed for them")
    DENIED = "denied", _("Access to a lawyer denied")


class Detention(CaseRow):
    """A defender deprived of liberty, and what is known of their conditions."""

    defender = models.ForeignKey(
        Defender, on_delete=models.CASCADE, related_name="detentions", verbose_name=_("defender")
    )
    detained_on = models.DateField(_("detained on"))
    released_on = models.DateField(_("released on"), null=True, blank=True)
    place = EncryptedTextField(_("where held"), blank=True)
    acknowledged = models.BooleanField(_("the authorities acknowledge the detention"))
    location_disclosed = models.BooleanField(_("the place of detention is disclosed"))
    family_contact = models.BooleanField(_("contact with family allowed"), default=False)
    lawyer_contact = models.BooleanField(_("contact with a lawyer allowed"), default=False)
    humanitarian_contact = models.BooleanField(
        _("contact with humanitarian organisations allowed"), default=False
    )
    rights_groups_contact = models.BooleanField(
        _("contact with human rights organisations allowed"), default=False
    )
    counsel = models.CharField(
        _("legal counsel"), max_length=10, choices=CounselStatus.choices, default=CounselStatus.NONE
    )
    health_concerns = EncryptedTextField(_("health concerns"), blank=True)

    class Meta:
        ordering: ClassVar = ["-detained_on", "-pk"]
        verbose_name = _("detention")
        verbose_name_plural = _("detentions")

    def __str__(self) -> str:
        return f"{self.case} · {self.detained_on:%Y-%m-%d}"

    @property
    def ongoing(self) -> bool:
        return self.released_on is None

    def get_absolute_url(self) -> str:
        return reverse("monitoring:detention", kwargs={"detention_id": self.pk})


class VisitStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    GRANTED = "granted", _("Granted")
    DENIED = "denied", _("Denied")
    HELD = "held", _("Held")
    NO_ANSWER = "no_answer", _("No answer")


class DetentionVisit(CaseRow):
    """A request to visit a detained defender, and how it went."""

    detention = models.ForeignKey(Detention, on_delete=models.CASCADE, related_name="visits")
    requested_on = models.DateField(_("requested on"))
    visit_on = models.DateField(_("visit date"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=VisitStatus.choices, default=VisitStatus.REQUESTED
    )
    outcome = EncryptedTextField(_("outcome"), blank=True)

    class Meta:
        ordering: ClassVar = ["-requested_on", "-pk"]
        verbose_name = _("visit request")
        verbose_name_plural = _("visit requests")


class CivicEventKind(models.TextChoices):
    RESTRICTIVE_LAW = "restrictive_law", _("Restrictive law or regulation")
    SHUTDOWN = "shutdown", _("Internet shutdown or throttling")
    RAID = "raid", _("Raid")
    ASSEMBLY_BAN = "assembly_ban", _("Ban on assembly")
    REPRISAL = "reprisal", _("Reprisal")
    UN_REPRISAL = "un_reprisal", _("Reprisal for engaging with the UN or the mission")
    TRANSNATIONAL = "transnational", _("Transnational repression")
    OTHER = "other", _("Other")


REPRISAL_KINDS = [CivicEventKind.REPRISAL, CivicEventKind.UN_REPRISAL, CivicEventKind.TRANSNATIONAL]


class CivicEvent(MissionScopedModel, EncryptedModel):
    """Something that shrinks civic space, dated and sourced, linked to the cases it touches."""

    is_data_subject = True

    kind = models.CharField(_("kind"), max_length=20, choices=CivicEventKind.choices)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"), null=True, blank=True)
    region = models.CharField(_("region"), max_length=100, blank=True, db_index=True)
    source_type = models.CharField(_("source"), max_length=20, choices=SourceType.choices)
    reliability = models.CharField(
        _("reliability of the source"),
        max_length=10,
        choices=Reliability.choices,
        default=Reliability.UNKNOWN,
    )
    title = EncryptedTextField(_("title"))
    description = EncryptedTextField(_("what happened"), blank=True)
    cases = models.ManyToManyField(Case, blank=True, related_name="civic_events")
    defenders = models.ManyToManyField(Defender, blank=True, related_name="civic_events")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["-starts_on", "-pk"]
        verbose_name = _("civic-space event")
        verbose_name_plural = _("civic-space events")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True)
                | models.Q(ends_on__gte=models.F("starts_on")),
                name="civic_event_ends_after_it_starts",
            )
        ]

    def __str__(self) -> str:
        return str(self.get_kind_display())

    def get_absolute_url(self) -> str:
        return reverse("monitoring:civic_event", kwargs={"event_id": self.pk})


class CalendarFeed(models.Model):
    """A member's personal hearings feed (ICS). Only the digest of its secret is kept; the
    secret is in the address the member gives their calendar, and revoking it ends it."""

    mission = models.ForeignKey("core.Mission", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at"]

    def __str__(self) -> str:
        return f"feed {self.pk}"
