"""What the scale generator has finished: one marker per generated mission.

Invariant: a marker is written in the same transaction as everything its mission holds, so a
mission with a marker is complete and a mission without one was never made by the generator.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models

from haven.core.models import Mission


class GeneratedMission(models.Model):
    """A mission the generator made in full, with the plan (seed and sizes) it followed."""

    mission = models.OneToOneField(Mission, on_delete=models.CASCADE, related_name="+")
    index = models.PositiveIntegerField(unique=True)
    plan = models.JSONField()
    finished_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["index"]

    def __str__(self) -> str:
        return f"generated mission {self.index}"
