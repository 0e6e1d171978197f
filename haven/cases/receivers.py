"""What cases do when the registry announces a change (the registry cannot import cases)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from haven.cases.services import follow_merge, hold_actions_after_withdrawal
from haven.registry.models import ConsentRecord
from haven.registry.signals import consent_withdrawn, defenders_merged


@receiver(consent_withdrawn, dispatch_uid="haven.cases.hold_actions")
def hold_actions(sender: Any, consent: ConsentRecord, actor: Any = None, **kwargs: Any) -> None:
    subject = consent.defender or consent.organisation
    if subject is not None:
        hold_actions_after_withdrawal(subject=subject, scope=consent.scope, actor=actor)


@receiver(defenders_merged, dispatch_uid="haven.cases.follow_merge")
def move_cases(sender: Any, survivor: Any, duplicate: Any, **kwargs: Any) -> None:
    follow_merge(survivor=survivor, duplicate=duplicate)
