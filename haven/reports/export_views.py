"""Pages of the two-person export flow: ask, approve or refuse, download once. Thin: the rules
live in ``haven.reports.approvals``; every page needs an administrator and, before any step,
a fresh re-authentication."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from haven.accounts.decorators import reauthenticate
from haven.core.access import requires_role
from haven.core.desk import DeskPanel, register_panel
from haven.core.http import acting_user, active_mission, form_page, posted
from haven.reports import approvals
from haven.reports.export_forms import DecisionForm, DownloadForm, ExportRequestForm
from haven.reports.models import ExportRequest, ExportStatus

admin_only = requires_role("admin")
REFUSED = (approvals.ExportRefused,)


def _export(request: HttpRequest, export_id: int) -> ExportRequest:
    rows = ExportRequest.objects.for_user(
        acting_user(request), mission=active_mission(request), roles=["admin"]
    ).select_related("requested_by", "decided_by", "mission")
    return get_object_or_404(rows, pk=export_id)


@admin_only
def export_list(request: HttpRequest) -> HttpResponse:
    user, mission = acting_user(request), active_mission(request)
    approvals.expire_lapsed(mission)
    context = {
        "awaiting": approvals.awaiting_approval(mission, user),
        "mine": ExportRequest.objects.filter(mission=mission, requested_by=user).select_related(
            "decided_by"
        )[:20],
        "single_admin": not approvals.has_second_admin(mission, user),
    }
    return render(request, "reports/exports/list.html", context)


@admin_only
@reauthenticate
def export_new(request: HttpRequest) -> HttpResponse:
    form = ExportRequestForm(posted(request))

    def act() -> str:
        approvals.request_export(
            mission=active_mission(request), actor=acting_user(request), **form.cleaned_data
        )
        messages.success(request, _("Asked. Another administrator must now approve it."))
        return reverse("reports:exports")

    return form_page(
        request,
        form,
        title=_("Ask for an export of identifiable data"),
        submit=_("Ask for approval"),
        cancel=reverse("reports:exports"),
        act=act,
        refused=REFUSED,
        intro=_(
            "The export holds every record of the mission, decrypted, with its files. A second "
            "administrator must approve it; then you can download it once, within 24 hours, "
            "encrypted with a passphrase."
        ),
    )


def _decision_page(request: HttpRequest, export_id: int, *, approve: bool) -> HttpResponse:
    export = _export(request, export_id)
    form = DecisionForm(posted(request))
    decide = approvals.approve_export if approve else approvals.refuse_export

    def act() -> str:
        decide(request=export, actor=acting_user(request))
        messages.success(request, _("Approved.") if approve else _("Refused."))
        return reverse("reports:exports")

    intro = _("%(who)s asked on %(when)s for: %(kind)s. Reason: %(reason)s.") % {
        "who": export.requested_by.get_username(),
        "when": timezone.localtime(export.requested_at).strftime("%Y-%m-%d %H:%M"),
        "kind": export.get_kind_display(),
        "reason": export.get_reason_display(),
    }
    if export.requested_by_id == acting_user(request).pk:
        intro += " " + _("You asked for it yourself, so another administrator must decide.")
    return form_page(
        request,
        form,
        title=_("Approve this export?") if approve else _("Refuse this export?"),
        submit=_("Approve") if approve else _("Refuse"),
        cancel=reverse("reports:exports"),
        act=act,
        refused=REFUSED,
        intro=intro,
    )


@admin_only
@reauthenticate
def export_approve(request: HttpRequest, export_id: int) -> HttpResponse:
    return _decision_page(request, export_id, approve=True)


@admin_only
@reauthenticate
def export_refuse(request: HttpRequest, export_id: int) -> HttpResponse:
    return _decision_page(request, export_id, approve=False)


@admin_only
def export_cancel(request: HttpRequest, export_id: int) -> HttpResponse:
    export = _export(request, export_id)
    form = DecisionForm(posted(request))

    def act() -> str:
        approvals.cancel_export(request=export, actor=acting_user(request))
        messages.success(request, _("Cancelled."))
        return reverse("reports:exports")

    return form_page(
        request,
        form,
        title=_("Cancel this export request?"),
        submit=_("Cancel the request"),
        cancel=reverse("reports:exports"),
        act=act,
        refused=REFUSED,
    )


@admin_only
@reauthenticate
def export_download(request: HttpRequest, export_id: int) -> HttpResponseBase:
    export, user = _export(request, export_id), acting_user(request)
    try:
        approvals.check_downloadable(request=export, actor=user)
    except approvals.ExportRefused as refusal:
        return render(request, "reports/exports/download.html", {"refusal": str(refusal)})
    form = DownloadForm(posted(request), initial={"passphrase": approvals.suggested_passphrase()})
    if request.method == "POST" and form.is_valid():
        try:
            handle = approvals.download_export(
                request=export, actor=user, passphrase=form.cleaned_data["passphrase"]
            )
        except approvals.ExportRefused as refusal:
            return render(request, "reports/exports/download.html", {"refusal": str(refusal)})
        stamp = timezone.localdate().isoformat()
        return FileResponse(
            handle,
            as_attachment=True,
            filename=f"haven-exit-{export.mission.slug}-{stamp}.hvxa",
            content_type="application/octet-stream",
        )
    return render(request, "reports/exports/download.html", {"form": form, "export": export})


def _awaiting(request: HttpRequest) -> dict[str, Any]:
    # One query: the panel is for administrators only, and lapsed requests are left out by
    # their date (the exports page marks them expired).
    user = acting_user(request)
    live = ExportRequest.objects.filter(
        mission=active_mission(request),
        status__in=[ExportStatus.PENDING, ExportStatus.APPROVED],
        expires_at__gt=timezone.now(),
    ).values_list("status", "requested_by_id")
    rows = list(live)
    return {
        "requests": [1 for status, asker in rows if status == "pending" and asker != user.pk],
        "approved": sum(1 for status, asker in rows if status == "approved" and asker == user.pk),
    }


def register_panels() -> None:
    register_panel(
        DeskPanel(
            "exports_awaiting",
            "reports/exports/panel_awaiting.html",
            frozenset({"admin"}),
            _awaiting,
            order=5,
        )
    )
