"""The workspace gate and the session policy.

``StaffSessionMiddleware`` ends sessions past 12 hours or started before an administrator
ended them. ``WorkspaceGateMiddleware`` stands in front of every ``/desk/`` view: it walks a
person through password change, enrolment and verification, sets the active membership,
and refuses any view that does not declare who may reach it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from haven.accounts.models import Membership, User
from haven.accounts.services import has_second_factor
from haven.core.access import access_of

WORKSPACE_PREFIX = "/desk/"


class StaffSessionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            started = request.session.get("haven_login_at")
            now = timezone.now().timestamp()
            too_old = (
                started is None or now - started > settings.HAVEN_SESSION_ABSOLUTE.total_seconds()
            )
            killed = (
                user.sessions_valid_after is not None
                and started is not None
                and started < user.sessions_valid_after.timestamp()
            )
            if too_old or killed:
                logout(request)
        return self.get_response(request)


def _active_membership(request: HttpRequest) -> Membership | None:
    user = cast(User, request.user)
    memberships = list(Membership.objects.filter(user=user).select_related("mission"))
    # The mission switcher lists them too: kept for the page instead of asked again.
    request.haven_memberships = memberships  # type: ignore[attr-defined]
    # And the case scope reads the sections the person works in from them (Case.for_user).
    user._haven_memberships = memberships  # type: ignore[attr-defined]
    if not memberships:
        return None
    wanted = request.session.get("haven_mission_id")
    for membership in memberships:
        if membership.mission_id == wanted:
            return membership
    request.session["haven_mission_id"] = memberships[0].mission_id
    return memberships[0]


class WorkspaceGateMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        if not request.path_info.startswith(WORKSPACE_PREFIX):
            return None
        access = access_of(view)
        if access == "public":
            return None
        if access not in {"login_step", "workspace"}:
            # Default deny: a workspace view that does not say who may see it is shown to nobody.
            return HttpResponseForbidden()
        user = request.user
        if not user.is_authenticated:
            login_url = reverse("accounts:login")
            return redirect(f"{login_url}?{urlencode({'next': request.get_full_path()})}")
        step = getattr(view, "haven_login_step", None)
        if step == "any":
            return None
        required = self._required_step(request)
        if required is not None:
            return None if step == required else redirect(_STEP_URLS[required])
        if access == "login_step" and step != "password_change":
            # The sign-in journey is over; its pages have nothing more to do.
            return redirect("core:desk")
        request.membership = _active_membership(request)  # type: ignore[attr-defined]
        return None

    @staticmethod
    def _required_step(request: HttpRequest) -> str | None:
        user = cast(User, request.user)
        if user.must_change_password:
            return "password_change"
        if user.is_verified():  # type: ignore[attr-defined]
            return None
        if not has_second_factor(user):
            return "mfa_enrol"
        return "mfa_verify"


_STEP_URLS = {
    "password_change": "accounts:password_change",
    "mfa_enrol": "accounts:mfa_enrol",
    "mfa_verify": "accounts:mfa_verify",
}
