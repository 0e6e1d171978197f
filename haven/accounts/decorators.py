"""``reauthenticate``: sensitive operations need the password and a fresh second factor."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

View = TypeVar("View", bound=Callable[..., Any])

REAUTH_SESSION_KEY = "haven_reauth_at"


def recently_reauthenticated(request: HttpRequest) -> bool:
    stamp = request.session.get(REAUTH_SESSION_KEY)
    if stamp is None:
        return False
    age = timezone.now().timestamp() - float(stamp)
    return 0 <= age <= settings.HAVEN_REAUTH_WINDOW.total_seconds()


def reauthenticate(view: View) -> View:
    """Send the person to confirm who they are unless they did so in the last five minutes.

    A POST arriving without a fresh confirmation is not carried out: the person confirms,
    returns to the page and submits again, so nothing happens behind their back.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if recently_reauthenticated(request):
            return view(request, *args, **kwargs)
        back = request.get_full_path() if request.method == "GET" else request.path
        return redirect(f"{reverse('accounts:reauth')}?{urlencode({'next': back})}")

    return wrapper  # type: ignore[return-value]
