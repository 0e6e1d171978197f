"""The accounts app's panels on the desk: your own recent sign-ins, and for admins the team
and what other administrators did to someone's access (``AccountNotice``)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _

from haven.accounts.models import Role
from haven.accounts.selectors import account_notices, member_counts
from haven.audit.models import AuditEvent
from haven.core.access import ALL_ROLES
from haven.core.desk import DeskPanel, register_panel

NOTICES_SHOWN = 10
_SIGN_IN_ACTIONS = {
    "auth.login": lambda: _("password accepted"),
    "auth.failed": lambda: _("wrong password"),
    "auth.mfa_verified": lambda: _("second step passed"),
    "auth.mfa_failed": lambda: _("wrong code"),
    "auth.locked_out": lambda: _("locked after too many failures"),
}


def _sign_ins(request: HttpRequest) -> dict[str, Any]:
    user_id = str(request.user.pk)
    events = AuditEvent.objects.filter(
        action__in=list(_SIGN_IN_ACTIONS), object_type="accounts.user", object_id=user_id
    ).order_by("-sequence")[:6]
    return {
        "events": [
            {"occurred_at": e.occurred_at, "label": _SIGN_IN_ACTIONS[e.action]()} for e in events
        ]
    }


def _members(request: HttpRequest) -> dict[str, Any]:
    counts = member_counts(request.membership.mission)  # type: ignore[attr-defined]
    return {"counts": [(role.label, counts.get(role.value, 0)) for role in Role]}


def _account_notices(request: HttpRequest) -> dict[str, Any]:
    mission = request.membership.mission  # type: ignore[attr-defined]
    notices = account_notices(request.user, mission)  # type: ignore[arg-type]
    return {"notices": list(notices[:NOTICES_SHOWN]), "total": notices.count()}


def register() -> None:
    register_panel(DeskPanel("sign_ins", "accounts/panel_sign_ins.html", ALL_ROLES, _sign_ins, 10))
    register_panel(
        DeskPanel("members", "accounts/panel_members.html", frozenset({"admin"}), _members, 20)
    )
    register_panel(
        DeskPanel(
            "account_notices",
            "accounts/panel_account_notices.html",
            frozenset({"admin"}),
            _account_notices,
            4,
        )
    )
