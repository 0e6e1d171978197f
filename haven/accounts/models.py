"""Staff users, their memberships of missions with a role, and personal API tokens."""

from __future__ import annotations

from typing import ClassVar

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from haven.core.fields import CodeListField
from haven.core.models import Mission
from haven.core.vocab.sections import SECTIONS


class User(AbstractUser):
    """A member of a mission's staff. Staff identities are operational, not defender data."""

    must_change_password = models.BooleanField(
        _("must change password"),
        default=False,
        help_text=_("Set when an administrator issues a one-time password."),
    )
    # Sessions that started before this moment are ended at their next request.
    sessions_valid_after = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("staff user")
        verbose_name_plural = _("staff users")


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    OFFICER = "officer", _("Officer")
    VIEWER = "viewer", _("Viewer (aggregate figures only)")
    AUDITOR = "auditor", _("Auditor (audit log, read only)")


class MembershipQuerySet(models.QuerySet):
    def for_user(self, user: User, *, mission: Mission) -> MembershipQuerySet:
        """Memberships of ``mission`` visible to ``user``: all of them for its admins."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if not self.filter(user=user, mission=mission, role=Role.ADMIN).exists():
            return self.none()
        return self.filter(mission=mission)


class Membership(models.Model):
    """A user's place in one mission. A user may hold memberships in several missions."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    mission = models.ForeignKey(Mission, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    # Identity tags (gender, ethnicity, religion…) are protected apart from the rest of a
    # defender's record (DOMAIN.md safety rule 4): administrators see them, officers only
    # when an administrator has allowed it.
    sees_identity_tags = models.BooleanField(
        _("may see identity tags"),
        default=False,
        help_text=_("Officers see defenders' identity tags only when this is ticked."),
    )
    # Sections this member works in: cases flagged for a section reach its members, even
    # restricted ones, and show on their desk.
    sections = CodeListField(_("sections"), vocabulary=SECTIONS)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = models.Manager.from_queryset(MembershipQuerySet)()

    class Meta:
        ordering: ClassVar = ["mission__name", "user__username"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["user", "mission"], name="one_membership_per_mission"),
            models.CheckConstraint(
                condition=models.Q(role__in=["admin", "officer", "viewer", "auditor"]),
                name="membership_role_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user.username} @ {self.mission.slug} ({self.role})"

    @property
    def may_see_identity_tags(self) -> bool:
        return self.role == Role.ADMIN or (self.role == Role.OFFICER and self.sees_identity_tags)


class TokenScope(models.TextChoices):
    READ = "read", _("Read only")
    WRITE = "write", _("Read and write")


class ApiTokenQuerySet(models.QuerySet):
    def for_user(self, user: User) -> ApiTokenQuerySet:
        """A user sees and revokes only their own tokens."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(user=user)

    def usable(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


class ApiToken(models.Model):
    """A personal API token acting for one user in one mission. Only its digest is kept."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    mission = models.ForeignKey(Mission, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=80)
    scope = models.CharField(_("scope"), max_length=8, choices=TokenScope.choices)
    # The public part of the token, shown in lists so a person can tell tokens apart.
    prefix = models.CharField(max_length=12, unique=True)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = models.Manager.from_queryset(ApiTokenQuerySet)()

    class Meta:
        ordering: ClassVar = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class EmergencyAction(models.TextChoices):
    DESTROY = "destroy", _("Destroy all data now")
    ARM_TOKEN = "arm_token", _("Create a destruction token for later")


class EmergencyRequest(models.Model):
    """Emergency destruction (or the arming of a destruction token) started by one
    administrator, waiting for a second, different administrator of the same mission.

    It lapses at ``expires_at`` (15 minutes); a confirmed request is never reused.
    """

    mission = models.ForeignKey(Mission, on_delete=models.CASCADE, related_name="+")
    action = models.CharField(_("action"), max_length=16, choices=EmergencyAction.choices)
    reason = models.CharField(_("reason"), max_length=500)
    started_by = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    started_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    confirmed_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.action} ({self.pk})"


class DestructionToken(models.Model):
    """A pre-armed destruction token, armed by two administrators. Only its digest is kept;
    any staff member of the mission who enters the secret triggers destruction, once."""

    mission = models.ForeignKey(Mission, on_delete=models.CASCADE, related_name="+")
    digest = models.CharField(max_length=64, unique=True)
    reason = models.CharField(_("reason"), max_length=500)
    armed_by = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    confirmed_by = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering: ClassVar = ["-created_at"]

    def __str__(self) -> str:
        return f"destruction token {self.pk}"


class AccountNoticeKind(models.TextChoices):
    ONE_TIME_PASSWORD = "one_time_password", _("issued a one-time password")
    MFA_RESET = "mfa_reset", _("removed the second factors")
    MADE_ADMIN = "made_admin", _("made an administrator")


class AccountNoticeQuerySet(models.QuerySet):
    def for_user(self, user: User, *, mission: Mission) -> AccountNoticeQuerySet:
        """A person sees and dismisses only the notices addressed to them, in ``mission``."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(recipient=user, mission=mission)

    def unread(self) -> AccountNoticeQuerySet:
        return self.filter(dismissed_at__isnull=True)


class AccountNotice(models.Model):
    """That someone changed a member's access in a way that could hand over an account: a
    one-time password, second factors removed, a new administrator. One row per other
    administrator of the mission, so a rogue or coerced administrator cannot do it unseen.

    Operational data only (who, to whom, what, when): never a password or a code.
    """

    mission = models.ForeignKey(Mission, on_delete=models.CASCADE, related_name="+")
    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("what happened"), max_length=20, choices=AccountNoticeKind.choices)
    # None: the operator of the server, from the command line.
    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    subject = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    dismissed_at = models.DateTimeField(null=True, blank=True)

    objects = models.Manager.from_queryset(AccountNoticeQuerySet)()

    class Meta:
        ordering: ClassVar = ["-created_at", "-pk"]
        indexes: ClassVar = [
            models.Index(
                fields=["recipient", "mission", "dismissed_at"], name="account_notice_desk"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.pk})"
