"""The referral directory (protection mechanisms a mission can refer defenders to) and the
referrals made from cases.

A mechanism is public information about an organisation, kept plain and edited by each
mission; ``last_verified_on`` says when someone last checked it against the mechanism's own
pages, and an entry not checked for 180 days is flagged (funds stop without warning). A
referral belongs to a case and is encrypted under its key.
"""

from __future__ import annotations

import datetime
from typing import ClassVar

from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from haven.cases.models import CaseRow
from haven.core.fields import CodeListField
from haven.core.models import MissionScopedModel
from haven.core.vocab.assistance import ASSISTANCE
from haven.crypto.fields import EncryptedTextField

STALE_AFTER = datetime.timedelta(days=180)


class MechanismKind(models.TextChoices):
    EMERGENCY_GRANT = "emergency_grant", _("Emergency grants")
    DIGITAL_SECURITY = "digital_security", _("Digital-security help")
    RELOCATION = "relocation", _("Temporary relocation")
    UN = "un", _("UN or regional mechanism")
    REFUGEE = "refugee", _("Refugee protection")
    OTHER = "other", _("Other")


class Mechanism(MissionScopedModel):
    """One mechanism in the mission's directory."""

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=MechanismKind.choices)
    support_types = CodeListField(_("support it gives"), vocabulary=ASSISTANCE)
    eligibility = models.TextField(_("who is eligible"), blank=True)
    how_to_apply = models.TextField(_("how to apply"), blank=True)
    languages = models.CharField(_("languages"), max_length=300, blank=True)
    contact = models.CharField(_("contact channel"), max_length=500, blank=True)
    website = models.URLField(_("website"), blank=True)
    source = models.URLField(
        _("checked against"), blank=True, help_text=_("The page the facts were checked on.")
    )
    last_verified_on = models.DateField(_("last verified"), null=True, blank=True)
    paused = models.BooleanField(
        _("paused"), default=False, help_text=_("It is not taking requests at the moment.")
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar = ["name", "pk"]
        verbose_name = _("mechanism")
        verbose_name_plural = _("mechanisms")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["mission", "name"], name="one_mechanism_name")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def stale(self) -> bool:
        return (
            self.last_verified_on is None
            or self.last_verified_on < timezone.localdate() - STALE_AFTER
        )

    @property
    def support_labels(self) -> list[str]:
        return [ASSISTANCE.label(code) for code in self.support_types]

    def get_absolute_url(self) -> str:
        return reverse("referrals:mechanism", kwargs={"mechanism_id": self.pk})


class ReferralStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    COMPLETED = "completed", _("Support given")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Referral(CaseRow):
    """A defender referred from a case to a mechanism, with their consent."""

    mechanism = models.ForeignKey(
        Mechanism, on_delete=models.PROTECT, related_name="referrals", verbose_name=_("mechanism")
    )
    referred_on = models.DateField(_("referred on"))
    status = models.CharField(
        _("status"), max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.SENT
    )
    outcome = EncryptedTextField(_("outcome"), blank=True)

    class Meta:
        ordering: ClassVar = ["-referred_on", "-pk"]
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")

    def __str__(self) -> str:
        return f"{self.case} → {self.mechanism}"
