"""Audit receivers for sign-in events raised by Django, django-axes and django-otp."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from haven.audit.services import record


@receiver(user_logged_in)
def audit_login(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    # The absolute session limit and "end all sessions" both count from the first sign-in of
    # this session: signing in again inside it must not extend the 12 hours.
    request.session.setdefault("haven_login_at", timezone.now().timestamp())
    record(action="auth.login", actor=user, obj=user)


@receiver(user_logged_out)
def audit_logout(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    if user is not None:
        record(action="auth.logout", actor=user, obj=user)


def _user_id(username: str) -> str:
    user = get_user_model().objects.filter(username=username).only("pk").first()
    return str(user.pk) if user else ""


@receiver(user_login_failed)
def audit_login_failure(sender: Any, credentials: dict[str, Any], **kwargs: Any) -> None:
    # The password is never recorded; the account is named by id when it exists.
    username = str(credentials.get("username", ""))[:150]
    record(action="auth.failed", object_type="accounts.user", object_id=_user_id(username))


@receiver(user_locked_out)
def audit_lockout(sender: Any, request: HttpRequest, username: str, **kwargs: Any) -> None:
    record(action="auth.locked_out", object_type="accounts.user", object_id=_user_id(username))
