"""Panels on the workspace desk. Apps contribute panels; the core only lays them out.

Keeping the list here lets higher apps (accounts, audit, later cases) add to the desk
without the core importing any of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest


@dataclass(frozen=True)
class DeskPanel:
    key: str
    template: str
    roles: frozenset[str]
    context: Callable[[HttpRequest], dict[str, Any]]
    order: int = 100


_PANELS: dict[str, DeskPanel] = {}


def register_panel(panel: DeskPanel) -> None:
    _PANELS[panel.key] = panel


def panels_for(request: HttpRequest) -> list[tuple[DeskPanel, dict[str, Any]]]:
    role = request.membership.role  # type: ignore[attr-defined]
    return [
        (panel, panel.context(request))
        for panel in sorted(_PANELS.values(), key=lambda p: (p.order, p.key))
        if role in panel.roles
    ]
