"""The intake's panel on the desk: how many new requests wait, no content."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from haven.core.desk import DeskPanel, register_panel
from haven.core.models import CASEWORK_ROLES
from haven.intake.selectors import new_count


def _waiting(request: HttpRequest) -> dict[str, Any]:
    mission = request.membership.mission  # type: ignore[attr-defined]
    return {"count": new_count(request.user, mission)}  # type: ignore[arg-type]


def register() -> None:
    register_panel(
        DeskPanel("new_requests", "intake/panel_new_requests.html", CASEWORK_ROLES, _waiting, 5)
    )
