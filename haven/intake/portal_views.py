"""The portal's request pages: anonymous, no script, nothing about the visitor kept.

A receipt is shown in the response to the submission itself, once, and never stored; the
status page needs the receipt on every visit (no session remembers it), and the same answer
is given for any receipt that does not match.

Every post is taken in the same order: its form token (cheap; junk stops here), then the
budget it belongs to (requests or receipt checks, intake/limits.py), then the work. Whatever
stops it, the person gets the form back with what they typed (files must be chosen again: no
browser lets a page refill them) and a plain reason.
"""

from __future__ import annotations

import contextlib
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from haven.core.access import public
from haven.core.models import Mission
from haven.core.selectors import portal_mission
from haven.core.uploads import upload_too_large, upload_too_many
from haven.intake import forms, limits, services, tokens
from haven.intake.models import PortalText


def _mission() -> Mission:
    mission = portal_mission()
    if mission is None:
        raise Http404
    return mission


def _file_limits(request: HttpRequest, form: forms.PortalForm) -> bool:
    """Say so when files were cut off at the size cap or beyond the number allowed; whether
    they were."""
    if upload_too_large(request):
        form.add_error("attachments", _("A file is larger than the limit. Send a smaller one."))
    if upload_too_many(request):
        form.add_error(
            "attachments",
            _("Send at most %(count)d files. Choose them again, at most %(count)d.")
            % {"count": settings.HAVEN_ATTACHMENTS_MAX},
        )
    return upload_too_large(request) or upload_too_many(request)


def _again(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    form: forms.PortalForm,
    message: str,
    *,
    status: int,
    wait: int | None = None,
) -> HttpResponse:
    """The form shown again with what was typed and why it was not taken."""
    form.is_valid()  # field errors too, so that everything can be put right in one go
    form.add_error(None, message)
    response = render(request, template, {**context, "form": form}, status=status)
    if wait:
        response["Retry-After"] = str(wait)
    return response


def _unchecked(request: HttpRequest, mission: Mission) -> HttpResponse:
    """A post with no token of ours for this form: not from one of our pages (or from one
    older than the token itself). A short answer, since that is what junk gets."""
    context = {"mission": mission, "again": request.path}
    return render(request, "intake/portal/unchecked.html", context, status=400)


def _refused(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    form: forms.PortalForm,
    refused: tokens.TokenRefused,
) -> HttpResponse:
    """A token not taken: the short answer for junk, the form again for a person's page."""
    if refused.problem is tokens.Problem.MISSING:
        return _unchecked(request, context["mission"])
    return _again(request, template, context, form, refused.problem.message, status=400)


def _busy(wait: int) -> str:
    minutes = max(1, round(wait / 60))
    return ngettext(
        "Many people are using this page right now. Please send it again in %(minutes)d minute.",
        "Many people are using this page right now. Please send it again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


UNAVAILABLE = _lazy(
    "Something went wrong on our side and nothing was sent. Please try again in a few minutes."
)


@public
def request_form(request: HttpRequest) -> HttpResponse:
    mission = _mission()
    context: dict[str, Any] = {"mission": mission}
    template = "intake/portal/request.html"
    if request.method != "POST":
        blank = forms.blank_form_html(forms.RequestForm)
        return render(request, template, {**context, "blank_form": blank})
    form = forms.RequestForm(request.POST, request.FILES)
    if _file_limits(request, form):
        # The body was cut off at a file: say so with the form (no work done, nothing spent).
        return render(request, template, {**context, "form": form})
    try:
        nonce = tokens.check(form.posted_token(), form.token_form)
    except tokens.TokenRefused as refused:
        return _refused(request, template, context, form, refused)
    except DatabaseError:
        return _not_sent(request, mission, form)
    if not form.is_valid():
        return render(request, template, {**context, "form": form})
    try:
        if form.cleaned_data.get("website"):
            # A robot filled the hidden field: answer as if sent, store nothing (not even its
            # spent token: a robot could otherwise grow that table at the speed it fetches).
            return render(request, "intake/portal/sent_without_receipt.html", context)
        limits.reserve_submission(mission)
    except limits.Limited as limited:
        return _again(
            request, template, context, form, _busy(limited.wait), status=429, wait=limited.wait
        )
    except DatabaseError:
        return _not_sent(request, mission, form)
    return _submit(request, mission, form, nonce)


def _submit(
    request: HttpRequest, mission: Mission, form: forms.RequestForm, nonce: str
) -> HttpResponse:
    """Store the request with its reserved place; give the place back if it is not stored."""
    context: dict[str, Any] = {"mission": mission}
    template = "intake/portal/request.html"
    stored = False
    try:
        tokens.spend(nonce)
        _submission, passphrase = services.submit(
            mission=mission,
            answers=form.answers(),
            language=get_language(),
            uploads=form.cleaned_data["attachments"],
        )
        stored = True
    except tokens.TokenRefused as refused:
        return _refused(request, template, context, form, refused)
    except (DatabaseError, OSError):
        # Database down or disk full: nothing half-stored remains, and no receipt is shown.
        return _not_sent(request, mission, form)
    except services.AttachmentRefused as error:
        form.add_error("attachments", str(error))
        return render(request, template, {**context, "form": form})
    except services.IntakeError as error:
        form.add_error(None, str(error))
        return render(request, template, {**context, "form": form})
    finally:
        if not stored:
            _release(mission)
    return render(request, "intake/portal/receipt.html", {**context, "passphrase": passphrase})


def _release(mission: Mission) -> None:
    # With the database gone, the place stays counted until the hour ends.
    with contextlib.suppress(DatabaseError):
        limits.release_submission(mission)


def _not_sent(request: HttpRequest, mission: Mission, form: forms.RequestForm) -> HttpResponse:
    """Nothing was stored: say so, with the form and what was typed, to send again."""
    form = forms.RequestForm(form.data)  # files cannot be shown again; the text can
    context = {"mission": mission, "form": form}
    return render(request, "intake/portal/not_sent.html", context, status=503)


def _status(
    request: HttpRequest, mission: Mission, opened: services.Opened, **extra: object
) -> HttpResponse:
    passphrase = request.POST.get("passphrase", "")
    context = {
        "mission": mission,
        "opened": opened,
        "conversation": services.conversation_for_person(opened),
        "message_form": forms.PersonMessageForm(initial={"passphrase": passphrase}),
        "deletion_form": forms.DeletionForm(initial={"passphrase": passphrase}),
        **extra,
    }
    return render(request, "intake/portal/status.html", context)


class _NotOpened(Exception):
    """A receipt post could not go as far as checking the words; ``response`` says why."""

    def __init__(self, response: HttpResponse) -> None:
        super().__init__("not opened")
        self.response = response


def _open(
    request: HttpRequest, mission: Mission, form: forms.ReceiptForm, template: str
) -> services.Opened | None:
    """Check the form's token, charge the receipt-check budget, then the words. ``None``
    when the words open nothing; ``_NotOpened`` with the page to show when it never got
    that far."""
    context: dict[str, Any] = {"mission": mission, "action": request.path}
    try:
        nonce = tokens.check(form.posted_token(), form.token_form)
        passphrase = request.POST.get("passphrase", "")
        if not passphrase.strip() or len(passphrase) > 300:
            form.is_valid()
            raise _NotOpened(render(request, template, {**context, "form": form}))
        limits.charge_receipt_check(mission)
        tokens.spend(nonce)
        return services.open_receipt(mission=mission, passphrase=passphrase)
    except tokens.TokenRefused as refused:
        page = _refused(request, template, context, form, refused)
    except limits.Limited as limited:
        message = _busy(limited.wait)
        page = _again(request, template, context, form, message, status=429, wait=limited.wait)
    except DatabaseError:
        page = _again(request, template, context, form, str(UNAVAILABLE), status=503)
    raise _NotOpened(page)


def _not_found(request: HttpRequest, mission: Mission) -> HttpResponse:
    form = forms.ReceiptForm(request.POST)
    form.is_valid()
    form.add_error("passphrase", str(services.RECEIPT_NOT_FOUND))
    context = {"mission": mission, "form": form}
    return render(request, "intake/portal/receipt_login.html", context)


@public
def receipt_login(request: HttpRequest) -> HttpResponse:
    mission = _mission()
    template = "intake/portal/receipt_login.html"
    if request.method != "POST":
        blank = forms.blank_form_html(forms.ReceiptForm)
        return render(request, template, {"mission": mission, "blank_form": blank})
    form = forms.ReceiptForm(request.POST)
    try:
        opened = _open(request, mission, form, template)
    except _NotOpened as stopped:
        return stopped.response
    if opened is None:
        return _not_found(request, mission)
    return _status(request, mission, opened)


@public
def add_information(request: HttpRequest) -> HttpResponse:
    mission = _mission()
    if request.method != "POST":
        return redirect("intake_portal:receipt")
    form = forms.PersonMessageForm(request.POST, request.FILES)
    _file_limits(request, form)
    try:
        opened = _open(request, mission, form, "intake/portal/again.html")
    except _NotOpened as stopped:
        return stopped.response
    if opened is None:
        return _not_found(request, mission)
    if form.is_valid():
        try:
            services.add_information(
                opened=opened,
                text=form.cleaned_data["text"],
                uploads=form.cleaned_data["attachments"],
            )
        except services.AttachmentRefused as error:
            form.add_error("attachments", str(error))
        except services.IntakeError as error:
            form.add_error("text", str(error))
        else:
            return _status(request, mission, opened, sent=True)
    return _status(request, mission, opened, message_form=form)


@public
def request_deletion(request: HttpRequest) -> HttpResponse:
    mission = _mission()
    if request.method != "POST":
        return redirect("intake_portal:receipt")
    form = forms.DeletionForm(request.POST)
    try:
        opened = _open(request, mission, form, "intake/portal/again.html")
    except _NotOpened as stopped:
        return stopped.response
    if opened is None:
        return _not_found(request, mission)
    if not form.is_valid():
        return _status(request, mission, opened, deletion_form=form)
    services.request_deletion(opened=opened)
    return _status(request, mission, opened, deletion_requested=True)


@public
def what_we_do(request: HttpRequest) -> HttpResponse:
    mission = _mission()
    text = PortalText.objects.filter(mission=mission, language=get_language()).first()
    return render(request, "intake/portal/what_we_do.html", {"mission": mission, "text": text})


@public
def safety(request: HttpRequest) -> HttpResponse:
    return render(request, "intake/portal/safety.html", {"mission": _mission()})
