"""Partner missions, what was disclosed to them, and what they sent.

A ``Partner`` is another mission known by its public keys (public by design: plain columns)
and their fingerprint; bundles go to and come from verified, active partners only. A
``Disclosure`` records each bundle sent: to whom, about which case, why (a code, so the audit
log can carry it), and the *names* of the fields it carried, never their values. A
``ReceivedBundle`` keeps what a partner sent, encrypted under its own data key, with its
provenance.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from haven.core.models import MissionScopedModel
from haven.crypto.fields import EncryptedJSONField
from haven.crypto.identity import PublicIdentity, grouped
from haven.crypto.models import EncryptedModel

SUMMARY_SCHEMA = "haven.coordination.case-summary/1"
ROTA_SCHEMA = "haven.coordination.rota/1"


class Partner(MissionScopedModel):
    """Another mission this one exchanges bundles with."""

    name = models.CharField(_("name"), max_length=200)
    code = models.CharField(
        _("short code"),
        max_length=20,
        help_text=_("A short name your team and consent records use for it, for example NL-NBO."),
    )
    country = models.CharField(_("country it represents"), max_length=2, blank=True)
    signing_public_key = models.BinaryField(max_length=32)
    box_public_key = models.BinaryField(max_length=32)
    fingerprint = models.CharField(_("fingerprint"), max_length=32)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering: ClassVar = ["name", "pk"]
        verbose_name = _("partner mission")
        verbose_name_plural = _("partner missions")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["mission", "fingerprint"], name="one_partner_per_key"),
            models.UniqueConstraint(fields=["mission", "code"], name="one_partner_per_code"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def identity(self) -> PublicIdentity:
        return PublicIdentity(bytes(self.signing_public_key), bytes(self.box_public_key))

    @property
    def fingerprint_grouped(self) -> str:
        return grouped(self.fingerprint)

    @property
    def verified(self) -> bool:
        return self.verified_at is not None

    @property
    def usable(self) -> bool:
        """Bundles may be made for it and accepted from it."""
        return self.verified and self.active

    def get_absolute_url(self) -> str:
        return reverse("coordination:partner", kwargs={"partner_id": self.pk})


class BundleKind(models.TextChoices):
    CASE_SUMMARY = "case_summary", _("Case summary")
    ROTA = "rota", _("Trial-observation rota")


class DisclosureReason(models.TextChoices):
    PROTECTION = "protection", _("Coordinating protection")
    TRIAL_OBSERVATION = "trial_observation", _("Trial observation")
    RELOCATION = "relocation", _("Temporary relocation or visas")
    JOINT_ACTION = "joint_action", _("A joint démarche or statement")
    PARTNER_REQUEST = "partner_request", _("The partner asked about the case")


class ConsentBasis(models.TextChoices):
    NAMED = "share_missions", _("Shared with named missions")
    DEIDENTIFIED = "deidentified_reporting", _("Without identifying them")


class Disclosure(MissionScopedModel):
    """One bundle sent to a partner: the record of a disclosure, without its contents."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="disclosures")
    kind = models.CharField(_("kind"), max_length=20, choices=BundleKind.choices)
    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    bundle_uuid = models.UUIDField(_("bundle"), unique=True)
    reason = models.CharField(_("reason"), max_length=20, choices=DisclosureReason.choices)
    consent_basis = models.CharField(
        _("consent it rests on"), max_length=30, choices=ConsentBasis.choices, blank=True
    )
    # Names of the fields carried, never their values.
    fields = models.JSONField(_("fields included"), default=list)
    # For a rota: how many hearings it listed (which hearings is in the audit log by id).
    hearing_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-pk"]
        verbose_name = _("disclosure to a partner")
        verbose_name_plural = _("disclosures to partners")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.partner}"


class ReceivedBundle(MissionScopedModel, EncryptedModel):
    """What a partner mission sent, as it was signed, with where and when it came from."""

    is_data_subject = True

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="received")
    kind = models.CharField(_("kind"), max_length=20, choices=BundleKind.choices)
    bundle_uuid = models.UUIDField(_("bundle"))
    sender_fingerprint = models.CharField(max_length=32)
    sent_at = models.DateTimeField(_("made by the sender at"))
    received_at = models.DateTimeField(_("imported at"), auto_now_add=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    payload = EncryptedJSONField(_("contents"), default=dict)

    class Meta:
        ordering: ClassVar = ["-received_at", "-pk"]
        verbose_name = _("bundle from a partner")
        verbose_name_plural = _("bundles from partners")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["mission", "bundle_uuid"], name="import_bundle_once")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ← {self.partner}"

    def get_absolute_url(self) -> str:
        return reverse("coordination:received", kwargs={"received_id": self.pk})
