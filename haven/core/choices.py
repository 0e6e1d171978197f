"""Closed workflow states shared by several apps."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RiskLevel(models.TextChoices):
    """The officer's judgement of a defender's risk (DOMAIN.md, "Risk assessment")."""

    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class Urgency(models.TextChoices):
    """How fast the mission must respond; each mission sets a deadline per level."""

    CRITICAL = "critical", _("Critical")
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")
