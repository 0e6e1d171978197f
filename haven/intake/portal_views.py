"""The portal's request pages: anonymous, no script, nothing about the visitor kept.

A receipt is shown in the response to the submission itself, once, and never stored; the
status page needs the receipt on every visit (no session remembers it), and the same answer
is given for any receipt that does not match.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from haven.core.access import public
from haven.core.models import Mission
from haven.core.selectors import portal_mission
from haven.core.uploads import upload_too_large
from haven.intake import forms, limits, services
from haven.intake.models import PortalText


def _mission() -> Mission:
    mission = portal_mission()
    if mission is None:
        raise Http404
    return mission


def _limited(request: HttpRequest, mission: Mission, error: limits.Limited) -> HttpResponse:
    context = {"mission": mission, "wait": error.wait}
    response = render(request, "intake/portal/limited.html", context, status=429)
    if error.wait:
        response["Retry-After"] = str(error.wait)
    return response


def _charged(
    view: Callable[[HttpRequest, Mission], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """Run ``view`` for the portal's mission, charging every POST to the abuse limits."""

    @wraps(view)
    def wrapper(request: HttpRequest) -> HttpResponse:
        mission = _mission()
        if request.method == "POST":
            try:
                limits.charge(request, mission)
            except limits.Limited as error:
                return limits.remember(request, _limited(request, mission, error))
        return limits.remember(request, view(request, mission))

    return wrapper


@public
@_charged
def request_form(request: HttpRequest, mission: Mission) -> HttpResponse:
    posted = request.method == "POST"
    form = forms.RequestForm(request.POST if posted else None, request.FILES if posted else None)
    if posted and upload_too_large(request):
        form.add_error("attachments", _("A file is larger than the limit. Send a smaller one."))
    if posted and form.is_valid():
        if form.cleaned_data.get("website"):
            # A robot filled the hidden field: answer as if sent, store nothing.
            return render(request, "intake/portal/sent_without_receipt.html", {"mission": mission})
        try:
            _submission, passphrase = services.submit(
                mission=mission,
                answers=form.answers(),
                language=get_language(),
                uploads=form.cleaned_data["attachments"],
            )
        except (DatabaseError, OSError):
            # Database down or disk full: nothing half-stored remains, and no receipt is shown.
            return render(request, "intake/portal/not_sent.html", {"mission": mission}, status=503)
        except services.AttachmentRefused as error:
            form.add_error("attachments", str(error))
            return render(request, "intake/portal/request.html", {"mission": mission, "form": form})
        except services.IntakeError as error:
            form.add_error(None, str(error))
            return render(request, "intake/portal/request.html", {"mission": mission, "form": form})
        context = {"mission": mission, "passphrase": passphrase}
        return render(request, "intake/portal/receipt.html", context)
    return render(request, "intake/portal/request.html", {"mission": mission, "form": form})


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


def _opened(
    request: HttpRequest, mission: Mission, form: forms.ReceiptForm
) -> services.Opened | None:
    if request.method != "POST" or not form.is_valid():
        return None
    return services.open_receipt(mission=mission, passphrase=form.cleaned_data["passphrase"])


@public
@_charged
def receipt_login(request: HttpRequest, mission: Mission) -> HttpResponse:
    return _receipt_login(request, mission)


def _receipt_login(request: HttpRequest, mission: Mission) -> HttpResponse:
    form = forms.ReceiptForm(request.POST if request.method == "POST" else None)
    opened = _opened(request, mission, form)
    if opened is not None:
        limits.receipt_succeeded(request)
        return _status(request, mission, opened)
    if request.method == "POST" and form.is_valid():
        wait = limits.receipt_failed(request)
        form.add_error(
            "passphrase",
            str(services.RECEIPT_NOT_FOUND)
            + " "
            + ngettext(
                "You can try again in %(seconds)d second.",
                "You can try again in %(seconds)d seconds.",
                wait,
            )
            % {"seconds": wait},
        )
    return render(request, "intake/portal/receipt_login.html", {"mission": mission, "form": form})


@public
@_charged
def add_information(request: HttpRequest, mission: Mission) -> HttpResponse:
    opened = _opened(request, mission, forms.ReceiptForm(request.POST))
    if opened is None:
        return _receipt_login(request, mission)
    form = forms.PersonMessageForm(request.POST, request.FILES)
    if upload_too_large(request):
        form.add_error("attachments", _("A file is larger than the limit. Send a smaller one."))
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
@_charged
def request_deletion(request: HttpRequest, mission: Mission) -> HttpResponse:
    opened = _opened(request, mission, forms.ReceiptForm(request.POST))
    if opened is None:
        return _receipt_login(request, mission)
    form = forms.DeletionForm(request.POST)
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
