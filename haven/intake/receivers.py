"""Every mission gets an intake keypair when it is created, so its portal can take requests."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from haven.audit.services import record
from haven.core.models import Mission
from haven.crypto.sealing import create_intake_key


@receiver(post_save, sender=Mission, dispatch_uid="haven.intake.mission_intake_key")
def give_new_mission_an_intake_key(
    sender: type[Mission], instance: Mission, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if created and not raw:
        key = create_intake_key(instance)
        record(action="intake_key.created", mission=instance, obj=key, fields=["public_key"])
