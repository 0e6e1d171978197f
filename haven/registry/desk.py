"""The registry's panel on the desk: consent that expires within 30 days."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from haven.core.desk import DeskPanel, register_panel
from haven.core.models import CASEWORK_ROLES
from haven.registry.selectors import EXPIRY_WARNING_DAYS, expiring_consents


def _expiring(request: HttpRequest) -> dict[str, Any]:
    mission = request.membership.mission  # type: ignore[attr-defined]
    return {
        "consents": expiring_consents(request.user, mission),  # type: ignore[arg-type]
        "days": EXPIRY_WARNING_DAYS,
    }


def register() -> None:
    register_panel(
        DeskPanel(
            "expiring_consent",
            "registry/panel_expiring_consent.html",
            CASEWORK_ROLES,
            _expiring,
            30,
        )
    )
