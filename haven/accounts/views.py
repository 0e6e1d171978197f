"""Sign-in journey, personal security settings, members and API tokens. Views stay thin."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp_webauthn.views import (
    BeginCredentialRegistrationView,
    CompleteCredentialAuthenticationView,
    CompleteCredentialRegistrationView,
)

from haven.accounts import forms, selectors, services
from haven.accounts.decorators import (
    REAUTH_SESSION_KEY,
    reauthenticate,
    recently_reauthenticated,
)
from haven.accounts.models import Membership, User
from haven.audit.services import record
from haven.core.access import login_step, public, requires_role

NEXT_SESSION_KEY = "haven_next"


def _safe_next(request: HttpRequest, candidate: str | None) -> str | None:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return None


def _after_sign_in(request: HttpRequest) -> HttpResponse:
    return redirect(_safe_next(request, request.session.pop(NEXT_SESSION_KEY, None)) or "core:desk")


@public
def login_view(request: HttpRequest) -> HttpResponse:
    form = forms.LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # django-axes would store the browser's user agent with each attempt; staff devices
        # are nobody's business, so it never sees it.
        request.META.pop("HTTP_USER_AGENT", None)
        user = authenticate(
            request,
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
        )
        if user is not None:
            login(request, user)
            next_url = _safe_next(request, request.GET.get("next"))
            if next_url:
                request.session[NEXT_SESSION_KEY] = next_url
            return redirect("core:desk")
        # One answer for an unknown name and a wrong password alike.
        form.add_error(None, _("The username or password is not right. Try again."))
    return render(request, "accounts/login.html", {"form": form})


def locked_out(request: HttpRequest, response: Any = None, credentials: Any = None) -> HttpResponse:
    """django-axes calls this once a username has failed too often."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    refusal = _(
        "Too many failed attempts for this username. Wait %(minutes)d minutes and try again."
    ) % {"minutes": minutes}
    context = {"form": forms.LoginForm(), "refusal": refusal}
    return render(request, "accounts/login.html", context, status=429)


@login_step("any")
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        logout(request)
        messages.success(request, _("You are signed out."))
        return redirect("accounts:login")
    return render(request, "accounts/logout.html")


@login_step("password_change")
def password_change(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = forms.HavenPasswordChangeForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.change_password(user=user, new_password=form.cleaned_data["new_password1"])
        update_session_auth_hash(request, user)
        messages.success(request, _("Your password is changed."))
        return redirect("core:desk")
    return render(
        request,
        "accounts/password_change.html",
        {"form": form, "forced": user.must_change_password},
    )


@login_step("mfa_enrol")
def mfa_enrol(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    device = services.pending_totp_device(user)
    form = forms.CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = services.confirm_totp(user=user, device=device, token=form.cleaned_data["code"])
        except services.AccountError as error:
            form.add_error("code", str(error))
        else:
            otp_login(request, device)
            request.session["haven_new_recovery_codes"] = codes
            return redirect("accounts:recovery_codes")
    return render(request, "accounts/mfa_enrol.html", selectors.enrolment_context(device, form))


@login_step("mfa_verify")
def mfa_verify(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = forms.VerifyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = services.verify_second_factor(user=user, token=form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            record(action="auth.mfa_verified", actor=user, obj=user)
            return _after_sign_in(request)
        record(action="auth.mfa_failed", actor=user, obj=user)
        form.add_error("code", _("That code did not work. Codes work once; wait for a new one."))
    context = {"form": form, "has_security_key": selectors.has_security_key(user)}
    return render(request, "accounts/mfa_verify.html", context)


class SecurityKeySignIn(CompleteCredentialAuthenticationView):
    """Completes sign-in with a security key; the key must belong to the signed-in person."""

    def check_device_usable(self, device: Any) -> None:
        super().check_device_usable(device)
        if device.user_id != self.request.user.pk:
            raise Http404

    def complete_auth(self, device: Any) -> Any:
        result = super().complete_auth(device)
        record(action="auth.mfa_verified", actor=device.user, obj=device.user)
        return result


class SecurityKeyRegistrationStart(BeginCredentialRegistrationView):
    """Adding a key gives lasting access, so it needs a fresh confirmation of identity."""

    def post(self, *args: Any, **kwargs: Any) -> HttpResponse:
        if not recently_reauthenticated(self.request):
            message = _("Confirm it is you first: reload the page.")
            return JsonResponse({"detail": message}, status=403)
        return super().post(*args, **kwargs)


class SecurityKeyRegistration(CompleteCredentialRegistrationView):
    """Completes adding a security key or passkey, and audits it."""

    def post(self, *args: Any, **kwargs: Any) -> HttpResponse:
        if not recently_reauthenticated(self.request):
            message = _("Confirm it is you first: reload the page.")
            return JsonResponse({"detail": message}, status=403)
        response = super().post(*args, **kwargs)
        if response.status_code == 200:
            user = self.request.user
            record(action="mfa.security_key_added", actor=user, obj=user, fields=["security_keys"])
        return response


@requires_role()
def recovery_codes(request: HttpRequest) -> HttpResponse:
    codes = request.session.pop("haven_new_recovery_codes", None)
    if codes is None:
        return redirect("accounts:security")
    return render(request, "accounts/recovery_codes.html", {"codes": codes})


@requires_role()
@reauthenticate
def security(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    return render(request, "accounts/security.html", selectors.security_context(user))


@requires_role()
@reauthenticate
def recovery_codes_regenerate(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        user: User = request.user  # type: ignore[assignment]
        request.session["haven_new_recovery_codes"] = services.generate_recovery_codes(user=user)
        return redirect("accounts:recovery_codes")
    return render(request, "accounts/recovery_codes_confirm.html")


@login_step("any")
def reauth(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = forms.ReauthForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.reauthenticate(user=user, **form.cleaned_data):
            request.session[REAUTH_SESSION_KEY] = timezone.now().timestamp()
            return redirect(_safe_next(request, request.GET.get("next")) or "core:desk")
        form.add_error(None, _("The password or the code is not right. Codes work once."))
    return render(request, "accounts/reauth.html", {"form": form})


@requires_role()
@require_POST
def switch_mission(request: HttpRequest) -> HttpResponse:
    form = forms.MissionSwitchForm(request.POST)
    if form.is_valid():
        membership = selectors.membership_of(cast(User, request.user), form.cleaned_data["mission"])
        if membership is None:
            raise Http404
        request.session["haven_mission_id"] = membership.mission_id
    return redirect("core:desk")


@requires_role("admin")
@reauthenticate
def mission_settings(request: HttpRequest) -> HttpResponse:
    mission = request.membership.mission  # type: ignore[attr-defined]
    form = forms.MissionSettingsForm(request.POST or None, instance=mission)
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form.Meta.fields}
        # The form wrote into the instance while validating; start again from the database.
        mission.refresh_from_db()
        services.update_mission_settings(actor=request.user, mission=mission, changes=changes)  # type: ignore[arg-type]
        messages.success(request, _("The mission's settings are saved."))
        return redirect("accounts:mission_settings")
    return render(request, "accounts/mission_settings.html", {"form": form})


@requires_role("admin")
@require_POST
def notice_dismiss(request: HttpRequest) -> HttpResponse:
    """Take a notice about someone's access off the desk: the person's own notices only."""
    form = forms.DismissNoticeForm(request.POST)
    if not form.is_valid():
        raise Http404
    try:
        services.dismiss_account_notice(
            actor=cast(User, request.user),
            mission=request.membership.mission,  # type: ignore[attr-defined]
            notice_id=form.cleaned_data["notice"],
        )
    except services.AccountError:
        raise Http404 from None
    return redirect("core:desk")


# -- members (administrators of the active mission) -----------------------------------------


def _member(request: HttpRequest, membership_id: int) -> Membership:
    mission = request.membership.mission  # type: ignore[attr-defined]
    found = (
        Membership.objects.for_user(request.user, mission=mission)  # type: ignore[arg-type]
        .select_related("user", "mission")
        .filter(pk=membership_id)
        .first()
    )
    if found is None:
        raise Http404
    return found


@requires_role("admin")
def members(request: HttpRequest) -> HttpResponse:
    mission = request.membership.mission  # type: ignore[attr-defined]
    return render(
        request,
        "accounts/members.html",
        {"members": selectors.members_of(cast(User, request.user), mission)},
    )


@requires_role("admin")
@reauthenticate
def member_add(request: HttpRequest) -> HttpResponse:
    form = forms.AddMemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = services.add_staff_user(
                actor=request.user,  # type: ignore[arg-type]
                mission=request.membership.mission,  # type: ignore[attr-defined]
                **form.cleaned_data,
            )
        except services.AccountError as error:
            form.add_error(None, str(error))
        else:
            return render(
                request,
                "accounts/one_time_password.html",
                {"member": account.membership, "password": account.one_time_password},
            )
    return render(request, "accounts/member_add.html", {"form": form})


@requires_role("admin")
@reauthenticate
def member_detail(request: HttpRequest, membership_id: int) -> HttpResponse:
    membership = _member(request, membership_id)
    form = forms.RoleForm(
        request.POST or None,
        initial={
            "role": membership.role,
            "sees_identity_tags": membership.sees_identity_tags,
            "sections": membership.sections,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.change_role(
                actor=request.user,  # type: ignore[arg-type]
                membership=membership,
                role=form.cleaned_data["role"],
                sees_identity_tags=form.cleaned_data["sees_identity_tags"],
                sections=form.cleaned_data["sections"],
            )
        except services.AccountError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Saved."))
            return redirect("accounts:member", membership_id=membership.pk)
    return render(request, "accounts/member_detail.html", {"member": membership, "form": form})


def _member_action(
    request: HttpRequest,
    membership_id: int,
    *,
    template: str,
    act: Callable[[Membership], str | None],
    done: str,
    then: str = "accounts:member",
) -> HttpResponse:
    """Confirm on GET, act on POST: the shared shape of every dangerous member action.

    ``act`` returns a one-time password to show once, or None.
    """
    membership = _member(request, membership_id)
    if request.method != "POST":
        return render(request, template, {"member": membership})
    try:
        password = act(membership)
    except services.AccountError as error:
        messages.error(request, str(error))
        return redirect("accounts:member", membership_id=membership.pk)
    if password is not None:
        return render(
            request, "accounts/one_time_password.html", {"member": membership, "password": password}
        )
    messages.success(request, done)
    if then == "accounts:members":
        return redirect(then)
    return redirect(then, membership_id=membership.pk)


@requires_role("admin")
@reauthenticate
def member_reset_mfa(request: HttpRequest, membership_id: int) -> HttpResponse:
    return _member_action(
        request,
        membership_id,
        template="accounts/member_reset_mfa.html",
        act=lambda m: services.reset_mfa(actor=request.user, membership=m),  # type: ignore[arg-type]
        done=_("Their second factors are removed. They will set up a new one at next sign-in."),
    )


@requires_role("admin")
@reauthenticate
def member_password(request: HttpRequest, membership_id: int) -> HttpResponse:
    return _member_action(
        request,
        membership_id,
        template="accounts/member_password.html",
        act=lambda m: services.issue_one_time_password(actor=request.user, membership=m),  # type: ignore[arg-type]
        done="",
    )


@requires_role("admin")
@reauthenticate
def member_kill_sessions(request: HttpRequest, membership_id: int) -> HttpResponse:
    return _member_action(
        request,
        membership_id,
        template="accounts/member_kill_sessions.html",
        act=lambda m: services.kill_sessions(actor=request.user, user=m.user, mission=m.mission),  # type: ignore[arg-type]
        done=_("Every session of this person is ended."),
    )


@requires_role("admin")
@reauthenticate
def member_remove(request: HttpRequest, membership_id: int) -> HttpResponse:
    return _member_action(
        request,
        membership_id,
        template="accounts/member_remove.html",
        act=lambda m: services.remove_membership(actor=request.user, membership=m),  # type: ignore[arg-type]
        done=_("The person is no longer a member of this mission."),
        then="accounts:members",
    )


# -- API tokens -----------------------------------------------------------------------------


@requires_role()
@reauthenticate
def tokens(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = forms.TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.create_api_token(
                user=user,
                mission=request.membership.mission,  # type: ignore[attr-defined]
                **form.cleaned_data,
            )
        except services.AccountError as error:
            form.add_error(None, str(error))
        else:
            return render(request, "accounts/token_created.html", {"created": created})
    return render(
        request, "accounts/tokens.html", {"form": form, "tokens": selectors.tokens_of(user)}
    )


@requires_role()
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    token = selectors.tokens_of(user).filter(pk=token_id).first()
    if token is None:
        raise Http404
    if request.method == "POST":
        services.revoke_api_token(actor=user, token=token)
        messages.success(request, _("The token is revoked. It no longer works."))
        return redirect("accounts:tokens")
    return render(request, "accounts/token_revoke.html", {"token": token})
