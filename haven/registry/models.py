"""Defenders, organisations and what links them: contact channels, affiliations, relations,
consent records.

Every identifying value (names, contacts, places, notes, identity tags, who gave consent) is
encrypted under the data key of the person or organisation it belongs to; what stays plain
is operational (country, region, vocabulary codes, risk, dates) and is what lists filter on.
Names, phone numbers and e-mail addresses are found through blind indexes only.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from haven.core.choices import RiskLevel
from haven.core.fields import CodeListField
from haven.core.models import MissionScopedModel
from haven.core.vocab.actor_types import ACTOR_TYPES
from haven.core.vocab.channel_types import CHANNEL_TYPES
from haven.core.vocab.consent_scopes import CONSENT_SCOPES
from haven.core.vocab.work_focus import WORK_FOCUS
from haven.crypto.blindindex import BlindIndexField, blind_index
from haven.crypto.fields import EncryptedJSONField, EncryptedTextField
from haven.crypto.models import EncryptedModel
from haven.crypto.values import Sealed


class Visibility(models.TextChoices):
    """How visible the defender wants to be; calendars, lists and exports honour it."""

    PUBLIC = "public", _("Public: may be named")
    DISCREET = "discreet", _("Discreet: name only to those who need it")
    ANONYMOUS = "anonymous", _("Anonymous: never named outside the case team")


class OrganisationKind(models.TextChoices):
    REGISTERED = "registered", _("Registered civil society organisation")
    INFORMAL = "informal", _("Informal group (two or more people)")
    NETWORK = "network", _("Network or coalition")
    MEDIA = "media", _("Media outlet")
    COMMUNITY = "community", _("Community or movement")


class RegistryEntry(MissionScopedModel, EncryptedModel):
    """What a defender and an organisation share: each is a data subject with its own key."""

    is_data_subject = True

    name = EncryptedTextField(_("name"))
    name_index = BlindIndexField(source="name", kind="name")
    country = models.CharField(
        _("country"), max_length=2, blank=True, help_text=_("Two-letter ISO 3166 code.")
    )
    region = models.CharField(
        _("region"),
        max_length=100,
        blank=True,
        db_index=True,
        help_text=_("Province, state or district: used for reach statistics, so keep it broad."),
    )
    work_focus = CodeListField(_("work focus"), vocabulary=WORK_FOCUS)
    visibility = models.CharField(
        _("visibility"), max_length=12, choices=Visibility.choices, default=Visibility.DISCREET
    )
    notes = EncryptedTextField(_("notes"), blank=True)
    # Maintained by risk assessments in cases; plain so lists can filter on it.
    risk_level = models.CharField(
        _("current risk"), max_length=10, choices=RiskLevel.choices, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    @property
    def work_focus_labels(self) -> list[str]:
        return [WORK_FOCUS.label(code) for code in self.work_focus]


class Defender(RegistryEntry):
    """A person who defends human rights, known to the mission."""

    known_as = EncryptedTextField(
        _("also known as"), blank=True, help_text=_("Other names or spellings, one per line.")
    )
    place = EncryptedTextField(
        _("exact place"), blank=True, help_text=_("Town, village or address. Kept encrypted.")
    )
    actor_type = models.CharField(
        _("actor type"), max_length=40, blank=True, choices=ACTOR_TYPES.choices
    )
    # Codes of IDENTITY_TAGS; shown only to members allowed to see identity tags.
    identity_tags = EncryptedJSONField(_("identity tags"), default=list, blank=True)

    class Meta:
        ordering: ClassVar = ["-updated_at", "-pk"]
        verbose_name = _("defender")
        verbose_name_plural = _("defenders")
        indexes: ClassVar = [models.Index(fields=["mission", "-updated_at"])]

    def __str__(self) -> str:
        return str(self.name)

    def get_absolute_url(self) -> str:
        return reverse("registry:defender", kwargs={"defender_id": self.pk})


class Organisation(RegistryEntry):
    """A registered CSO, an informal group, a network, a media outlet or a movement."""

    kind = models.CharField(_("kind"), max_length=12, choices=OrganisationKind.choices)

    class Meta:
        ordering: ClassVar = ["-updated_at", "-pk"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        indexes: ClassVar = [models.Index(fields=["mission", "-updated_at"])]

    def __str__(self) -> str:
        return str(self.name)

    def get_absolute_url(self) -> str:
        return reverse("registry:organisation", kwargs={"organisation_id": self.pk})


def _one_owner(prefix: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=(
            models.Q(defender__isnull=False, organisation__isnull=True)
            | models.Q(defender__isnull=True, organisation__isnull=False)
        ),
        name=f"{prefix}_one_owner",
    )


class ContactChannel(MissionScopedModel, EncryptedModel):
    """One way to reach a defender or organisation, under the owner's key.

    ``lookup`` is the blind index of the value as a phone number or an e-mail address (by the
    channel type), so a number typed into search finds its owner; free-text channels have none.
    """

    defender = models.ForeignKey(
        Defender, on_delete=models.CASCADE, null=True, blank=True, related_name="channels"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, null=True, blank=True, related_name="channels"
    )
    channel_type = models.CharField(_("channel"), max_length=20, choices=CHANNEL_TYPES.choices)
    value = EncryptedTextField(_("number, address or details"))
    safety_notes = EncryptedTextField(
        _("when it is safe"),
        blank=True,
        help_text=_("For example: only after 6 pm, never at work."),
    )
    preferred = models.BooleanField(_("preferred channel"), default=False)
    lookup = models.CharField(max_length=32, blank=True, db_index=True, editable=False)

    class Meta:
        ordering: ClassVar = ["-preferred", "pk"]
        verbose_name = _("contact channel")
        verbose_name_plural = _("contact channels")
        constraints: ClassVar = [
            _one_owner("channel"),
            models.UniqueConstraint(
                fields=["defender"],
                condition=models.Q(preferred=True),
                name="one_preferred_channel_per_defender",
            ),
            models.UniqueConstraint(
                fields=["organisation"],
                condition=models.Q(preferred=True),
                name="one_preferred_channel_per_organisation",
            ),
        ]

    def __str__(self) -> str:
        return str(self.get_channel_type_display())

    def save(self, *args: object, **kwargs: object) -> None:
        loaded = self.__dict__.get("value")
        if not isinstance(loaded, Sealed) and "value" in self.__dict__:
            kind = CHANNEL_TYPES.get(self.channel_type)["lookup"]
            self.lookup = blind_index(str(self.value), kind) if kind else ""
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "lookup"}  # type: ignore[misc]
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class Affiliation(MissionScopedModel, EncryptedModel):
    """A defender's place in an organisation, under the defender's key."""

    defender = models.ForeignKey(Defender, on_delete=models.CASCADE, related_name="affiliations")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="affiliations"
    )
    role = EncryptedTextField(_("role"), blank=True, help_text=_("For example: founder, lawyer."))
    started_on = models.DateField(_("from"), null=True, blank=True)
    ended_on = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-started_on", "pk"]
        verbose_name = _("affiliation")
        verbose_name_plural = _("affiliations")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(ended_on__isnull=True)
                | models.Q(started_on__isnull=True)
                | models.Q(ended_on__gte=models.F("started_on")),
                name="affiliation_ends_after_it_starts",
            )
        ]

    def __str__(self) -> str:
        return f"{self.defender}, {self.organisation}"


class RelationKind(models.TextChoices):
    FAMILY = "family", _("Family member")
    COLLEAGUE = "colleague", _("Colleague")
    LAWYER = "lawyer", _("Lawyer")
    REPRESENTATIVE = "representative", _("Representative")
    OTHER = "other", _("Other linked person")


class Relation(MissionScopedModel, EncryptedModel):
    """A relative or linked person of a defender, under the defender's key.

    The person is either another defender in the registry (``linked``) or described here
    (``name`` and ``details``), for relatives who are not defenders themselves.
    """

    defender = models.ForeignKey(Defender, on_delete=models.CASCADE, related_name="relations")
    kind = models.CharField(_("relation"), max_length=20, choices=RelationKind.choices)
    linked = models.ForeignKey(
        Defender,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="linked_from",
        verbose_name=_("defender in the registry"),
    )
    name = EncryptedTextField(_("name"), blank=True)
    details = EncryptedTextField(
        _("details"), blank=True, help_text=_("Relationship, how to reach them, what they know.")
    )

    class Meta:
        ordering: ClassVar = ["pk"]
        verbose_name = _("relation")
        verbose_name_plural = _("relations")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=~models.Q(linked=models.F("defender")), name="relation_not_to_self"
            )
        ]

    def __str__(self) -> str:
        return str(self.get_kind_display())


class ConsentGiver(models.TextChoices):
    PERSON = "person", _("The person themselves")
    REPRESENTATIVE = "representative", _("A representative")
    FAMILY = "family", _("A family member")


class WithdrawalReason(models.TextChoices):
    PERSON_ASKED = "person_asked", _("The person asked to withdraw it")
    REPRESENTATIVE = "representative", _("Their representative or family withdrew it")
    RISK_CHANGED = "risk_changed", _("The risk to them has changed")
    RECORDED_IN_ERROR = "error", _("It was recorded in error")
    OTHER = "other", _("Another reason (say in the note)")


class ConsentRecord(MissionScopedModel, EncryptedModel):
    """Consent to one scope, given by someone, on a date, through a channel, until an expiry.

    Under the key of the person or organisation it concerns. A record is never edited:
    consent changes by withdrawing it (with a reason) and recording a new one.
    """

    defender = models.ForeignKey(
        Defender, on_delete=models.CASCADE, null=True, blank=True, related_name="consents"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, null=True, blank=True, related_name="consents"
    )
    scope = models.CharField(
        _("what they agreed to"), max_length=40, choices=CONSENT_SCOPES.choices
    )
    given_by = models.CharField(
        _("given by"), max_length=20, choices=ConsentGiver.choices, default=ConsentGiver.PERSON
    )
    given_by_name = EncryptedTextField(_("name of the representative or family member"), blank=True)
    channel = models.CharField(_("how it was given"), max_length=20, choices=CHANNEL_TYPES.choices)
    detail = EncryptedTextField(
        _("named recipients"),
        blank=True,
        help_text=_(
            "Which missions, mechanism, organisation or fund, where the consent names one."
        ),
    )
    given_on = models.DateField(_("given on"))
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    # The reason is a code, so the audit log can carry it without carrying anything personal;
    # the circumstances go into the encrypted note.
    withdrawal_reason = models.CharField(
        _("reason for withdrawal"), max_length=20, choices=WithdrawalReason.choices, blank=True
    )
    withdrawal_note = EncryptedTextField(_("circumstances of the withdrawal"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["-given_on", "-pk"]
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")
        constraints: ClassVar = [
            _one_owner("consent"),
            models.CheckConstraint(
                condition=models.Q(expires_on__isnull=True)
                | models.Q(expires_on__gte=models.F("given_on")),
                name="consent_expires_after_given",
            ),
        ]
        indexes: ClassVar = [models.Index(fields=["mission", "expires_on"])]

    def __str__(self) -> str:
        return str(self.get_scope_display())
