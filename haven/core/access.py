"""How every route declares who may reach it.

The workspace gate (``haven.accounts.middleware``) reads these marks before any view runs, so
an unmarked workspace view is refused rather than left open, and the access-matrix test
refuses to pass while any route is unmarked.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

ALL_ROLES: frozenset[str] = frozenset({"admin", "officer", "viewer", "auditor"})
LOGIN_STEPS: frozenset[str] = frozenset({"password_change", "mfa_enrol", "mfa_verify", "any"})

View = TypeVar("View", bound=Callable[..., Any])


def public(view: View) -> View:
    """Anyone may reach this view, signed in or not (the portal, the login page)."""
    view.haven_access = "public"  # type: ignore[attr-defined]
    return view


def login_step(step: str) -> Callable[[View], View]:
    """A view of the sign-in journey, reachable before the second factor is verified.

    ``step`` names the stage it belongs to; ``any`` (sign out) works at every stage.
    """
    if step not in LOGIN_STEPS:
        raise ValueError(f"unknown login step {step!r}")

    def mark(view: View) -> View:
        view.haven_access = "login_step"  # type: ignore[attr-defined]
        view.haven_login_step = step  # type: ignore[attr-defined]
        return view

    return mark


def requires_role(*roles: str) -> Callable[[View], View]:
    """A workspace view for members of the active mission holding one of ``roles``."""
    wanted = frozenset(roles) or ALL_ROLES
    if not wanted <= ALL_ROLES:
        raise ValueError(f"unknown roles {sorted(wanted - ALL_ROLES)}")

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            membership = getattr(request, "membership", None)
            if membership is None or membership.role not in wanted:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapper.haven_access = "workspace"  # type: ignore[attr-defined]
        wrapper.haven_roles = wanted  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def access_of(view: Callable[..., Any]) -> str | None:
    """The access mark of a view function, looking through class-based view wrappers."""
    mark = getattr(view, "haven_access", None)
    if mark is None and hasattr(view, "view_class"):
        mark = getattr(view.view_class, "haven_access", None)
    return mark
