"""Every new mission starts with the starter directory (``referrals.starter``) to edit."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from haven.core.models import Mission
from haven.referrals.services import seed_directory


@receiver(post_save, sender=Mission, dispatch_uid="haven.referrals.seed_directory")
def give_new_mission_a_directory(
    sender: type[Mission], instance: Mission, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if created and not raw:
        seed_directory(instance)
