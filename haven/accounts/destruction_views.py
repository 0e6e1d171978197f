"""Workspace pages of emergency destruction (docs/emergency.md). Logic is in ``emergency``.

Each administrator's step carries its own password and second-factor code in the form, a
stricter check than the five-minute ``reauthenticate`` window, so the decorator is not stacked
on top (it would cost a second code in an emergency). Entering a pre-armed token needs only a
signed-in staff member of the mission: the token is the authority, given in advance by two
administrators.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from haven.accounts import emergency
from haven.accounts.models import EmergencyAction, Membership, User
from haven.core.access import requires_role


class IdentityFields(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = forms.CharField(
        label=_("A fresh code from your authenticator app, or a recovery code"),
        max_length=24,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )


class StartForm(IdentityFields):
    action = forms.ChoiceField(label=_("What"), choices=EmergencyAction.choices)
    reason = forms.CharField(label=_("Why"), max_length=emergency.MAX_REASON)


class ConfirmForm(IdentityFields):
    request = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class TokenForm(forms.Form):
    token = forms.CharField(label=_("Destruction token"), max_length=80, widget=forms.PasswordInput)


def _page(request: HttpRequest, status: int = 200, **forms_: Any) -> HttpResponse:
    membership = cast(Membership, request.membership)  # type: ignore[attr-defined]
    context = {
        "is_admin": membership.role == "admin",
        "pending": emergency.pending_requests(membership.mission),
        "start_form": forms_.get("start_form") or StartForm(),
        # One confirmation form per waiting request: the fields are drawn fresh, the errors of
        # a refused confirmation are shown above them.
        "confirm_form": IdentityFields(),
        "confirm_errors": _errors_of(forms_.get("confirm_form")),
        "token_form": forms_.get("token_form") or TokenForm(),
    }
    return render(request, "accounts/emergency.html", context, status=status)


def _errors_of(form: forms.Form | None) -> list[str]:
    if form is None:
        return []
    return [str(error) for errors in form.errors.values() for error in errors]


def _destroyed(request: HttpRequest, certificate: Any) -> HttpResponse:
    return render(request, "accounts/emergency_destroyed.html", {"certificate": certificate})


@requires_role()
def emergency_page(request: HttpRequest) -> HttpResponse:
    return _page(request)


@requires_role("admin")
def emergency_start(request: HttpRequest) -> HttpResponse:
    form = StartForm(request.POST or None)
    if request.method != "POST":
        return redirect("accounts:emergency")
    if form.is_valid():
        try:
            emergency.start_request(
                actor=cast(User, request.user),
                mission=request.membership.mission,  # type: ignore[attr-defined]
                **form.cleaned_data,
            )
        except emergency.EmergencyError as error:
            form.add_error(None, str(error))
        else:
            return redirect("accounts:emergency")
    return _page(request, status=400, start_form=form)


@requires_role("admin")
def emergency_confirm(request: HttpRequest) -> HttpResponse:
    form = ConfirmForm(request.POST or None)
    if request.method != "POST":
        return redirect("accounts:emergency")
    if form.is_valid():
        data = form.cleaned_data
        try:
            done = emergency.confirm_request(
                actor=cast(User, request.user),
                mission=request.membership.mission,  # type: ignore[attr-defined]
                request_id=data["request"],
                password=data["password"],
                code=data["code"],
            )
        except emergency.EmergencyError as error:
            form.add_error(None, str(error))
        else:
            if done.certificate is not None:
                return _destroyed(request, done.certificate)
            context = {"secret": done.token_secret}
            return render(request, "accounts/emergency_token.html", context)
    return _page(request, status=400, confirm_form=form)


@requires_role()
def emergency_use_token(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    if request.method != "POST":
        return redirect("accounts:emergency")
    if form.is_valid():
        try:
            certificate = emergency.use_token(
                actor=cast(User, request.user),
                mission=request.membership.mission,  # type: ignore[attr-defined]
                secret=form.cleaned_data["token"],
            )
        except emergency.EmergencyError as error:
            form.add_error(None, str(error))
        else:
            return _destroyed(request, certificate)
    return _page(request, status=400, token_form=form)
