"""Cases: a defender's or organisation's situation as the mission works on it.

A case is a data subject with its own key: its title, summary, incidents, assessments, actions,
notes, contacts and handover notes are encrypted under it, so shredding the case shreds them
all. What stays plain is operational (status, urgency, risk, dates, who owns it, vocabulary
codes), because the desk, the lists and the reports sort and count on it.

Visibility: every admin and officer of the mission sees an ordinary case; a restricted case is
seen only by its team (owner, second officer, named members) and by members of the sections it
is flagged for. ``Case.objects.for_user`` is the one place that rule lives.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar, Self

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from haven.core.choices import RiskLevel, Urgency
from haven.core.fields import CodeListField, has_code
from haven.core.models import (
    CASEWORK_ROLES,
    ChoiceLabels,
    Mission,
    MissionScopedModel,
    MissionScopedQuerySet,
    memberships_read,
)
from haven.core.vocab.mission_actions import MISSION_ACTIONS
from haven.core.vocab.relocation import RELOCATION_TASKS
from haven.core.vocab.sections import SECTIONS
from haven.core.vocab.threats import PERPETRATOR_TYPES, THREAT_TYPES
from haven.crypto.fields import EncryptedJSONField, EncryptedTextField
from haven.crypto.models import EncryptedModel
from haven.intake.models import Submission
from haven.registry.models import Defender, Organisation

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from haven.accounts.models import User


class CaseStatus(models.TextChoices):
    """The lifecycle of DOMAIN.md, in order."""

    RECEIVED = "received", _("Received")
    SCREENING = "screening", _("Screening")
    VERIFYING = "verifying", _("Verifying")
    RISK_ASSESSED = "risk_assessed", _("Risk assessed")
    ACTION_PLANNED = "action_planned", _("Action planned")
    ACTIVE = "active", _("Active")
    MONITORING = "monitoring", _("Monitoring")
    DORMANT = "dormant", _("Dormant")
    CLOSED = "closed", _("Closed")


OPEN_STATUSES = [status for status in CaseStatus.values if status != CaseStatus.CLOSED]
# Until a case reaches one of these, the mission has not yet answered the person.
AWAITING_RESPONSE = [CaseStatus.RECEIVED, CaseStatus.SCREENING, CaseStatus.VERIFYING]


class ClosureReason(models.TextChoices):
    RESOLVED = "resolved", _("Resolved")
    REFERRED = "referred", _("Referred elsewhere")
    CONSENT_WITHDRAWN = "consent_withdrawn", _("Consent withdrawn")
    OUT_OF_SCOPE = "out_of_scope", _("Out of scope (not a human rights defender)")
    RELOCATED = "relocated", _("Relocated")
    DECEASED = "deceased", _("Deceased")


class CaseQuerySet(MissionScopedQuerySet):
    def for_user(
        self,
        user: User | AnonymousUser,
        *,
        mission: Mission | None = None,
        roles: Iterable[str] = CASEWORK_ROLES,
    ) -> Self:
        """Cases the user may see: every case of the missions where they are an admin or
        officer, except restricted ones, which they see only when they are on the case's
        team or work in a section the case is flagged for."""
        scoped = super().for_user(user, mission=mission, roles=roles)
        if not user.is_authenticated:
            return scoped
        from haven.accounts.models import Membership

        allowed = (
            Q(restricted=False)
            | Q(owner=user)
            | Q(second_officer=user)
            | Q(pk__in=CaseMember.objects.filter(user=user).values("case"))
        )
        # A section reaches the flagged cases of the missions where the member works in it.
        # Most members work in none: then the rule adds nothing to the query.
        # The memberships the request already read (accounts.middleware), else a query.
        known: list[Membership] | None = memberships_read(user)
        if known is not None:
            worked_in = [
                (membership.mission_id, membership.sections)
                for membership in known
                if membership.sections and (mission is None or membership.mission_id == mission.pk)
            ]
        else:
            memberships = Membership.objects.filter(user=user).exclude(sections="")
            if mission is not None:
                memberships = memberships.filter(mission=mission)
            worked_in = list(memberships.values_list("mission_id", "sections"))
        for mission_id, sections in worked_in:
            for section in sections:
                allowed |= Q(mission_id=mission_id) & has_code("sections", section)
        return scoped.filter(allowed)


class Case(MissionScopedModel, EncryptedModel):
    """One defender's or organisation's situation, from the first request to closure."""

    is_data_subject = True

    number = models.PositiveIntegerField(_("number"), editable=False)
    title = EncryptedTextField(_("title"), help_text=_("A few words the team will recognise."))
    summary = EncryptedTextField(_("summary"), blank=True)
    defender = models.ForeignKey(
        Defender,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("defender"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("organisation"),
    )
    linked_defenders = models.ManyToManyField(
        Defender, blank=True, related_name="linked_cases", verbose_name=_("others concerned")
    )
    linked_organisations = models.ManyToManyField(
        Organisation, blank=True, related_name="linked_cases", verbose_name=_("organisations")
    )
    submission = models.ForeignKey(
        Submission, on_delete=models.SET_NULL, null=True, blank=True, related_name="cases"
    )
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=CaseStatus.choices, default=CaseStatus.RECEIVED
    )
    status_changed_at = models.DateTimeField(auto_now_add=True)
    closure_reason = models.CharField(
        _("reason for closing"), max_length=20, choices=ClosureReason.choices, blank=True
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    response_due_at = models.DateTimeField(_("respond by"))
    responded_at = models.DateTimeField(_("first response"), null=True, blank=True)
    risk_level = models.CharField(
        _("risk"), max_length=10, choices=RiskLevel.choices, blank=True, db_index=True
    )
    imminent = models.BooleanField(_("imminent"), default=False)
    review_due_on = models.DateField(_("risk review due"), null=True, blank=True)
    next_contact_on = models.DateField(_("next contact"), null=True, blank=True)
    last_contact_on = models.DateField(_("last contact"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_cases",
        verbose_name=_("owner"),
    )
    second_officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="seconded_cases",
        verbose_name=_("second officer"),
    )
    restricted = models.BooleanField(
        _("restricted"),
        default=False,
        help_text=_("Only the case team sees it; it appears nowhere else, not even in counts."),
    )
    sections = CodeListField(_("sections brought in"), vocabulary=SECTIONS)
    updated_at = models.DateTimeField(auto_now=True)

    objects = models.Manager.from_queryset(CaseQuerySet)()  # type: ignore[misc]

    class Meta:
        ordering: ClassVar = ["-opened_at", "-pk"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["mission", "number"], name="one_case_number"),
            models.CheckConstraint(
                condition=~Q(status="closed") | ~Q(closure_reason=""),
                name="closed_case_has_reason",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["mission", "status"]),
            models.Index(fields=["mission", "next_contact_on"]),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"C-{self.number}"

    @property
    def subject(self) -> Defender | Organisation | None:
        return self.defender or self.organisation

    @property
    def is_open(self) -> bool:
        return self.status != CaseStatus.CLOSED

    @property
    def section_labels(self) -> list[str]:
        return [SECTIONS.label(code) for code in self.sections]

    @property
    def needs_second_officer(self) -> bool:
        return self.risk_level in {RiskLevel.HIGH, RiskLevel.CRITICAL} and (
            self.second_officer_id is None
        )

    def get_absolute_url(self) -> str:
        return reverse("cases:case", kwargs={"case_id": self.pk})


class CaseMember(models.Model):
    """A named member of a case's team (what lets them see a restricted case)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["case", "user"], name="one_membership_per_case")
        ]

    def __str__(self) -> str:
        return f"{self.case} · {self.user}"


class CaseRowQuerySet(MissionScopedQuerySet):
    def for_user(
        self,
        user: User | AnonymousUser,
        *,
        mission: Mission | None = None,
        roles: Iterable[str] = CASEWORK_ROLES,
    ) -> Self:
        """Rows of the cases the user may see, and of no other."""
        cases = Case.objects.for_user(user, mission=mission, roles=roles)
        return self.filter(case__in=cases.values("pk"))


CaseRowManager = models.Manager.from_queryset(CaseRowQuerySet)


class CaseRow(MissionScopedModel, EncryptedModel):
    """What every row belonging to a case shares: the case's key and its visibility."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="%(class)ss")
    created_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    objects = CaseRowManager()  # type: ignore[misc]

    class Meta:
        abstract = True


class StatusChange(ChoiceLabels, models.Model):
    """One move of a case through its lifecycle, for the timeline. Codes only, no content."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=16, choices=CaseStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=CaseStatus.choices)
    reason = models.CharField(max_length=20, choices=ClosureReason.choices, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"


class Involvement(models.TextChoices):
    CARRIED_OUT = "carried_out", _("Carried it out")
    ORDERED = "ordered", _("Ordered it")
    PLANNED = "planned", _("Planned it")
    SUSPECTED = "suspected", _("Suspected")
    FAILED_TO_PROTECT = "failed_to_protect", _("Failed to protect")
    UNKNOWN = "unknown", _("Unknown")


class SourceType(models.TextChoices):
    VICTIM = "victim", _("The defender themselves")
    FAMILY = "family", _("Family")
    WITNESS = "witness", _("Witness")
    COLLEAGUE = "colleague", _("Colleague or organisation")
    LAWYER = "lawyer", _("Lawyer")
    MEDIA = "media", _("Media report")
    OFFICIAL = "official", _("Official source")
    PARTNER = "partner", _("Partner mission or NGO")
    OTHER = "other", _("Other")


class Reliability(models.TextChoices):
    HIGH = "high", _("Highly reliable")
    USUAL = "usual", _("Usually reliable")
    FAIR = "fair", _("Fairly reliable")
    LOW = "low", _("Not usually reliable")
    UNKNOWN = "unknown", _("Reliability unknown")


class Verification(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    LIKELY = "likely", _("Likely")
    POSSIBLE = "possible", _("Possible")
    UNLIKELY = "unlikely", _("Unlikely")
    UNKNOWN = "unknown", _("Unknown")


class Incident(CaseRow):
    """One entry of the threat log. Unverified allegations are marked so, never published."""

    incident_type = models.CharField(
        _("what kind of incident"), max_length=30, choices=THREAT_TYPES.choices
    )
    occurred_on = models.DateField(_("when"))
    place = EncryptedTextField(_("where"), blank=True)
    description = EncryptedTextField(_("what happened"))
    perpetrator_type = models.CharField(
        _("alleged perpetrator"), max_length=30, choices=PERPETRATOR_TYPES.choices
    )
    involvement = models.CharField(
        _("their involvement"),
        max_length=20,
        choices=Involvement.choices,
        default=Involvement.UNKNOWN,
    )
    source_type = models.CharField(_("source"), max_length=20, choices=SourceType.choices)
    reliability = models.CharField(
        _("reliability of the source"),
        max_length=10,
        choices=Reliability.choices,
        default=Reliability.UNKNOWN,
    )
    verification = models.CharField(
        _("verified"), max_length=10, choices=Verification.choices, default=Verification.UNKNOWN
    )
    specific_threat = models.BooleanField(
        _("a specific, direct threat"),
        default=False,
        help_text=_("Raises the case to at least high risk and sets a review date."),
    )

    class Meta:
        ordering: ClassVar = ["-occurred_on", "-pk"]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")


class RiskAssessment(CaseRow):
    """The officer's judgement of the risk, with its reasons; kept as history, never edited."""

    threats = EncryptedJSONField(_("threats"), default=list)
    vulnerabilities = EncryptedJSONField(_("vulnerabilities"), default=list)
    capacities = EncryptedJSONField(_("capacities"), default=list)
    level = models.CharField(_("risk level"), max_length=10, choices=RiskLevel.choices)
    imminent = models.BooleanField(_("imminent"), default=False)
    rationale = EncryptedTextField(_("why this level"))
    next_review_on = models.DateField(_("review again by"))

    class Meta:
        ordering: ClassVar = ["-created_at", "-pk"]
        verbose_name = _("risk assessment")
        verbose_name_plural = _("risk assessments")


class ActionStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    ON_HOLD = "on_hold", _("On hold")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


PENDING_ACTIONS = [ActionStatus.PLANNED, ActionStatus.IN_PROGRESS]


class HostResponse(models.TextChoices):
    FAVOURABLE = "favourable", _("Favourable or assisted")
    PLEDGED = "pledged", _("Pledged")
    DENIED = "denied", _("Denied or countered")
    MORE_INFORMATION = "more_information", _("Asked for more information")
    TOKEN = "token", _("Token")
    NONE = "none", _("None")


class Action(CaseRow):
    """One thing the mission does on a case, from its toolbox (``MISSION_ACTIONS``)."""

    action_type = models.CharField(_("action"), max_length=30, choices=MISSION_ACTIONS.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="case_actions",
        verbose_name=_("who does it"),
    )
    due_on = models.DateField(_("due"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=ActionStatus.choices, default=ActionStatus.PLANNED
    )
    details = EncryptedTextField(_("details"), blank=True)
    # The pre-action reprisal check: who could be harmed by this, and how that was weighed.
    reprisal_check = EncryptedTextField(_("reprisal check"), blank=True)
    reprisal_checked_at = models.DateTimeField(null=True, blank=True)
    outcome = EncryptedTextField(_("outcome"), blank=True)
    host_response = models.CharField(
        _("host government's response"), max_length=20, choices=HostResponse.choices, blank=True
    )
    defender_told = models.BooleanField(_("the defender was told the outcome"), default=False)
    next_contact_on = models.DateField(_("next contact"), null=True, blank=True)
    hold_reason = models.CharField(max_length=40, blank=True)
    completed_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-pk"]
        verbose_name = _("action")
        verbose_name_plural = _("actions")

    @property
    def needs(self) -> str | None:
        """The consent scope this action needs before it starts, if any."""
        scope: str | None = MISSION_ACTIONS.get(self.action_type)["consent"]
        return scope

    @property
    def is_visible(self) -> bool:
        return bool(MISSION_ACTIONS.get(self.action_type)["visible"])


class Note(CaseRow):
    """A working note on the case."""

    text = EncryptedTextField(_("note"))

    class Meta:
        ordering: ClassVar = ["-created_at", "-pk"]
        verbose_name = _("note")
        verbose_name_plural = _("notes")


class ContactMethod(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    CALL = "call", _("Call")
    MESSAGE = "message", _("Secure message")
    PORTAL = "portal", _("Through the portal")
    INTERMEDIARY = "intermediary", _("Through an intermediary")


class FollowUp(CaseRow):
    """A contact with the defender (a check-in), and when the next one is due."""

    contacted_on = models.DateField(_("contacted on"))
    method = models.CharField(_("how"), max_length=20, choices=ContactMethod.choices)
    summary = EncryptedTextField(_("what was said"), blank=True)
    next_contact_on = models.DateField(_("next contact"), null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-contacted_on", "-pk"]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")


class Handover(CaseRow):
    """A case passed from one owner to another, with the note the new owner reads first."""

    from_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    to_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    note = EncryptedTextField(_("handover note"), blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-pk"]
        verbose_name = _("handover")
        verbose_name_plural = _("handovers")


class RelocationTask(CaseRow):
    """One task of a temporary relocation (``core/vocab/relocation.py``), with its due date."""

    task = models.CharField(_("task"), max_length=40, choices=RELOCATION_TASKS.choices)
    phase = models.CharField(_("phase"), max_length=10)
    due_on = models.DateField(_("due"))
    done_on = models.DateField(_("done on"), null=True, blank=True)
    notes = EncryptedTextField(_("notes"), blank=True)

    class Meta:
        ordering: ClassVar = ["due_on", "pk"]
        verbose_name = _("relocation task")
        verbose_name_plural = _("relocation tasks")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["case", "task"], name="one_relocation_task_per_case")
        ]


class NoticeKind(models.TextChoices):
    ACTION_ON_HOLD = "action_on_hold", _("An action was put on hold: consent was withdrawn")
    FOLLOW_UP_DUE = "follow_up_due", _("A follow-up is due")
    REVIEW_DUE = "review_due", _("A risk review is due")
    RESPONSE_DUE = "response_due", _("A response deadline is near")
    CASE_HANDED_OVER = "handed_over", _("A case was given to you")
    ACTION_ASSIGNED = "action_assigned", _("An action was given to you")
    SECTION_ASKED = "section_asked", _("Your section was brought into a case")
    HEARING_SOON = "hearing_soon", _("A hearing is coming up")


class Notice(models.Model):
    """Something a staff member must see on their desk. A code and a case, never content."""

    mission = models.ForeignKey(Mission, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=20, choices=NoticeKind.choices)
    # The day the reminder is about: one notice per user, case, kind and day.
    due_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-pk"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["user", "case", "kind", "due_on"], name="one_notice_per_day"
            )
        ]

    def __str__(self) -> str:
        return str(self.get_kind_display())


class DigestSent(models.Model):
    """That a user's daily digest for a day was sent, so the job can run twice safely."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["user", "day"], name="one_digest_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.day}"


def case_row_models() -> list[type[Any]]:
    return [Incident, RiskAssessment, Action, Note, FollowUp, Handover, RelocationTask]
