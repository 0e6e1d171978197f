"""What every workspace view asks of a request: who is acting, in which mission, what was
posted; how a service's refusal lands on a form, and the page of one form. One copy, for
every app's views."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

if TYPE_CHECKING:
    from haven.accounts.models import User
    from haven.core.models import Mission


def active_mission(request: HttpRequest) -> Mission:
    """The mission the signed-in member is working in (set by the workspace gate)."""
    return request.membership.mission  # type: ignore[attr-defined,no-any-return]


def acting_user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def posted(request: HttpRequest) -> Any:
    """The submitted data on POST (even if empty: a confirmation has no fields), else None."""
    return request.POST if request.method == "POST" else None


def apply_errors(form: Form, error: ValidationError) -> None:
    """Put a service's errors on the form's fields (or on the form when no field matches)."""
    if hasattr(error, "error_dict"):
        for name, errors in error.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def form_page(
    request: HttpRequest,
    form: Form,
    *,
    title: str,
    submit: str,
    cancel: str,
    act: Callable[[], str],
    refused: tuple[type[Exception], ...],
    intro: str = "",
    back_url: str = "",
    back_label: str = "",
) -> HttpResponse:
    """GET shows the form; a valid POST calls ``act``, which returns where to go next.

    A ``ValidationError`` from the service lands on the fields it names; an exception of a
    ``refused`` type (a domain rule) shows its sentence above the form. Nothing is lost: the
    form comes back with what was typed.
    """
    if request.method == "POST" and form.is_valid():
        try:
            return redirect(act())
        except ValidationError as error:
            apply_errors(form, error)
        except refused as error:
            form.add_error(None, str(error))
    context = {
        "form": form,
        "title": title,
        "submit": submit,
        "cancel": cancel,
        "intro": intro,
        "back_url": back_url,
        "back_label": back_label,
    }
    return render(request, "core/workspace/form_page.html", context)
