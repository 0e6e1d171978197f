"""Triage in the workspace: the inbox, a request opened, replies, links, discarding. Thin."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from haven.core.access import requires_role
from haven.core.http import acting_user, active_mission, posted
from haven.core.vocab.assistance import ASSISTANCE
from haven.core.vocab.consent_scopes import CONSENT_SCOPES
from haven.intake import attachments, forms, selectors, services
from haven.intake.models import PortalText, Submission
from haven.registry import selectors as registry_selectors
from haven.registry.services import ChannelInput, PossibleDuplicates, find_duplicates

casework = requires_role("admin", "officer")


def _submission(request: HttpRequest, submission_id: int) -> Submission:
    return get_object_or_404(
        selectors.submissions(acting_user(request), active_mission(request)), pk=submission_id
    )


def _url(submission: Submission) -> str:
    return reverse("intake:submission", kwargs={"submission_id": submission.pk})


@casework
def inbox(request: HttpRequest) -> HttpResponse:
    rows = selectors.inbox(acting_user(request), active_mission(request))[:200]
    return render(request, "intake/inbox.html", {"submissions": rows})


def _suggestions(submission: Submission, answers: dict[str, Any]) -> list[Any]:
    """Defenders whose name, phone or e-mail appear exactly in the request."""
    channels = [
        ChannelInput(kind, word)
        for word in str(answers.get("contact", "")).replace(",", " ").split()
        for kind in ("phone", "email")
        if (kind == "email") == ("@" in word)
    ]
    return find_duplicates(
        mission=submission.mission, name=str(answers.get("name", "")), channels=channels
    )


@casework
def submission_detail(request: HttpRequest, submission_id: int) -> HttpResponse:
    submission = _submission(request, submission_id)
    reply_form = forms.ReplyForm(posted(request))
    if request.method == "POST" and reply_form.is_valid():
        try:
            services.reply(
                submission=submission,
                actor=acting_user(request),
                text=reply_form.cleaned_data["text"],
            )
        except services.IntakeError as error:
            reply_form.add_error("text", str(error))
        else:
            messages.success(request, _("Your reply is sealed to their receipt."))
            return redirect(_url(submission))
    answers = services.open_submission(submission=submission, actor=acting_user(request))
    context = {
        "submission": submission,
        "answers": answers,
        "at_risk": dict(forms.AT_RISK).get(answers.get("at_risk", ""), ""),
        "help_wanted": [ASSISTANCE.label(code) for code in answers.get("help_wanted", [])],
        "consent": [CONSENT_SCOPES.label(code) for code in answers.get("consent", [])],
        "conversation": services.conversation_for_mission(submission),
        "files": submission.attachments.all(),
        "reply_form": reply_form,
        "triage_form": forms.TriageForm(
            initial={"urgency": submission.effective_urgency, "status": submission.status}
        ),
        "link_form": forms.LinkForm(),
        "suggestions": _suggestions(submission, answers),
    }
    return render(request, "intake/submission.html", context)


@casework
def submission_triage(request: HttpRequest, submission_id: int) -> HttpResponse:
    submission = _submission(request, submission_id)
    form = forms.TriageForm(posted(request))
    if request.method == "POST" and form.is_valid():
        services.triage(submission=submission, actor=acting_user(request), **form.cleaned_data)
        messages.success(request, _("Saved."))
    return redirect(_url(submission))


@casework
def submission_link(request: HttpRequest, submission_id: int) -> HttpResponse:
    submission = _submission(request, submission_id)
    defenders = registry_selectors.defenders(acting_user(request), active_mission(request))
    form = forms.LinkForm(posted(request))
    if request.method == "POST":
        chosen = request.POST.get("defender")
        found = None
        if chosen and chosen.isdigit():
            found = defenders.filter(pk=int(chosen)).first()
        elif form.is_valid():
            matches = list(
                defenders.filter(
                    registry_selectors.search_query(form.cleaned_data["find"], "defender")
                )[:2]
            )
            found = matches[0] if len(matches) == 1 else None
        if found is None:
            messages.error(
                request,
                _(
                    "No single defender matches: use the exact name, phone number or e-mail "
                    "address."
                ),
            )
        else:
            services.link_defender(
                submission=submission, defender=found, actor=acting_user(request)
            )
            messages.success(
                request, _("The request is linked to %(name)s.") % {"name": found.name}
            )
    return redirect(_url(submission))


@casework
def submission_discard(request: HttpRequest, submission_id: int) -> HttpResponse:
    submission = _submission(request, submission_id)
    form = Form(posted(request))
    if request.method == "POST" and form.is_valid():
        services.discard(submission=submission, actor=acting_user(request))
        messages.success(request, _("The request and its messages are deleted."))
        return redirect("intake:inbox")
    context = {
        "form": form,
        "title": _("Delete this request?"),
        "intro": _(
            "The request and every message about it are deleted for good. Use it for spam, or "
            "when the person asked for deletion."
        ),
        "submit": _("Delete"),
        "cancel": _url(submission),
    }
    return render(request, "core/workspace/form_page.html", context)


@requires_role("admin")
def portal_texts(request: HttpRequest) -> HttpResponse:
    mission = active_mission(request)
    saved = set(PortalText.objects.filter(mission=mission).values_list("language", flat=True))
    languages = [
        (code, name, code in saved)
        for code, name in settings.LANGUAGES
        if code in mission.portal_languages
    ]
    return render(request, "intake/portal_texts.html", {"languages": languages})


@requires_role("admin")
def portal_text_edit(request: HttpRequest) -> HttpResponse:
    """Edit one language's text; the language comes as ``?language=`` (default English)."""
    mission = active_mission(request)
    language = request.GET.get("language", settings.LANGUAGE_CODE)
    if language not in dict(settings.LANGUAGES):
        raise Http404
    current = PortalText.objects.filter(mission=mission, language=language).first()
    initial = {"can_do": current.can_do, "cannot_do": current.cannot_do} if current else {}
    form = forms.PortalTextForm(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        services.save_portal_text(
            mission=mission, actor=acting_user(request), language=language, **form.cleaned_data
        )
        messages.success(request, _("Saved. The portal shows it now."))
        return redirect("intake:portal_texts")
    context = {
        "form": form,
        "title": _("What we can and cannot do, in %(language)s")
        % {"language": dict(settings.LANGUAGES)[language]},
        "submit": _("Save"),
        "cancel": reverse("intake:portal_texts"),
        "intro": "",
    }
    return render(request, "core/workspace/form_page.html", context)


def _file_response(
    submission: Submission, attachment: Any, chunks: Any, *, original: bool
) -> StreamingHttpResponse:
    response = StreamingHttpResponse(chunks, content_type=attachments.KIND_LABELS[attachment.kind])
    suffix = "-original" if original else ""
    extension = attachments.EXTENSIONS[attachment.kind]
    name = f"request-{submission.pk}-{attachment.pk}{suffix}.{extension}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@casework
def attachment_download(request: HttpRequest, submission_id: int, attachment_id: int) -> Any:
    submission = _submission(request, submission_id)
    attachment = get_object_or_404(submission.attachments, pk=attachment_id)
    chunks = services.attachment_download(attachment=attachment, actor=acting_user(request))
    return _file_response(submission, attachment, chunks, original=False)


@casework
def attachment_original(request: HttpRequest, submission_id: int, attachment_id: int) -> Any:
    submission = _submission(request, submission_id)
    attachment = get_object_or_404(submission.attachments, pk=attachment_id, has_original=True)
    form = forms.OriginalForm(posted(request))
    if request.method == "POST" and form.is_valid():
        chunks = services.attachment_download(
            attachment=attachment,
            actor=acting_user(request),
            original_reason=form.cleaned_data["reason"],
        )
        return _file_response(submission, attachment, chunks, original=True)
    context = {
        "form": form,
        "title": _("Open the original file"),
        "intro": _(
            "The original still holds its hidden data: where and when it was made, on what "
            "device, by whom. Opening it is logged with your reason."
        ),
        "submit": _("Download the original"),
        "cancel": _url(submission),
    }
    return render(request, "core/workspace/form_page.html", context)


@casework
def submission_create_defender(request: HttpRequest, submission_id: int) -> HttpResponse:
    submission = _submission(request, submission_id)
    if request.method != "POST":
        return redirect(_url(submission))
    try:
        defender = services.create_defender_from(submission=submission, actor=acting_user(request))
    except PossibleDuplicates as error:
        messages.error(request, str(error) + " " + _("Link the request to that record instead."))
        return redirect(_url(submission))
    messages.success(request, _("%(name)s is now in the registry.") % {"name": defender.name})
    return redirect(defender.get_absolute_url())
