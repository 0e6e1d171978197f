"""Workspace pages of coordination with partner missions. Thin."""

from __future__ import annotations

import base64
import binascii

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from haven.accounts.decorators import reauthenticate
from haven.audit.services import record_read
from haven.cases import selectors as case_selectors
from haven.cases.models import Case
from haven.coordination import forms, selectors, services
from haven.coordination.models import Disclosure, Partner
from haven.core.access import requires_role
from haven.core.http import acting_user, active_mission, apply_errors, form_page, posted
from haven.crypto.identity import grouped

casework = requires_role("admin", "officer")
admin_only = requires_role("admin")
REFUSED = (services.CoordinationError,)


def _partner(request: HttpRequest, partner_id: int) -> Partner:
    rows = selectors.partners(acting_user(request), active_mission(request))
    return get_object_or_404(rows, pk=partner_id)


def _bundle_response(disclosure: Disclosure, blob: bytes) -> HttpResponse:
    response = HttpResponse(blob, content_type="application/octet-stream")
    name = f"{disclosure.kind.replace('_', '-')}-{disclosure.bundle_uuid}.haven-bundle"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@casework
def index(request: HttpRequest) -> HttpResponse:
    user, mission = acting_user(request), active_mission(request)
    context = {
        "partners": selectors.partners(user, mission),
        "received": selectors.received(user, mission)[: selectors.RECENT],
        "disclosures": selectors.disclosures(user, mission)[: selectors.RECENT],
    }
    return render(request, "coordination/index.html", context)


@casework
def our_keys(request: HttpRequest) -> HttpResponse:
    mission = active_mission(request)
    identity = services.our_identity(mission=mission, actor=acting_user(request))
    card = services.our_key_card(mission=mission, actor=acting_user(request))
    context = {"card": card, "fingerprint": grouped(identity.fingerprint)}
    return render(request, "coordination/our_keys.html", context)


@casework
def our_key_card(request: HttpRequest) -> HttpResponse:
    mission = active_mission(request)
    card = services.our_key_card(mission=mission, actor=acting_user(request))
    response = HttpResponse(card, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{mission.slug}-key-card.txt"'
    return response


@admin_only
def partner_new(request: HttpRequest) -> HttpResponse:
    form = forms.PartnerForm(posted(request))

    def act() -> str:
        partner = services.add_partner(
            mission=active_mission(request), actor=acting_user(request), **form.cleaned_data
        )
        return partner.get_absolute_url()

    return form_page(
        request,
        form,
        title=_("Add a partner mission"),
        submit=_("Add it"),
        cancel=reverse("coordination:index"),
        act=act,
        refused=REFUSED,
        intro=_(
            "The partner starts unverified. No bundle goes to it or is accepted from it until "
            "an admin has compared its fingerprint with it over another channel."
        ),
    )


@admin_only
def partner_detail(request: HttpRequest, partner_id: int) -> HttpResponse:
    partner = _partner(request, partner_id)
    rows = selectors.disclosures(acting_user(request), active_mission(request))
    context = {"partner": partner, "disclosures": rows.filter(partner=partner)[:50]}
    return render(request, "coordination/partner.html", context)


@admin_only
@reauthenticate
def partner_verify(request: HttpRequest, partner_id: int) -> HttpResponse:
    """POST marks the fingerprint compared; any other method goes back to the partner."""
    partner = _partner(request, partner_id)
    if request.method == "POST":
        services.verify_partner(partner=partner, actor=acting_user(request))
        messages.success(request, _("%(name)s is verified.") % {"name": partner.name})
    return redirect(partner.get_absolute_url())


@admin_only
def partner_active(request: HttpRequest, partner_id: int) -> HttpResponse:
    """POST pauses or resumes exchanges with the partner."""
    partner = _partner(request, partner_id)
    if request.method == "POST":
        active = request.POST.get("active") == "1"
        services.set_partner_active(partner=partner, actor=acting_user(request), active=active)
    return redirect(partner.get_absolute_url())


@casework
@reauthenticate
def send_summary(request: HttpRequest, case_id: int) -> HttpResponse:
    user, mission = acting_user(request), active_mission(request)
    case: Case = get_object_or_404(case_selectors.cases(user, mission), pk=case_id)
    usable = selectors.usable_partners(user, mission)
    form = forms.SummaryForm(posted(request), partners=usable)
    if request.method == "POST" and form.is_valid():
        try:
            disclosure, blob = services.send_case_summary(
                case=case, actor=user, **form.cleaned_data
            )
            return _bundle_response(disclosure, blob)
        except services.CoordinationError as error:
            form.add_error(None, str(error))
        except ValidationError as error:
            apply_errors(form, error)
    context = {
        "form": form,
        "title": _("Send a summary to a partner"),
        "submit": _("Make the bundle and download it"),
        "cancel": case.get_absolute_url(),
        "intro": _(
            "No partner mission is verified yet. An admin adds one from its key card and "
            "verifies its fingerprint under Coordination."
        )
        if not usable.exists()
        else _(
            "The bundle carries only what their consent allows for that partner: with consent "
            "naming it, their name and the case's facts; with consent to de-identified "
            "reporting only, no name and no free text. Contact details, relatives, identity "
            "tags and notes never go. It is signed by this mission and only the partner can "
            "open it."
        ),
        "back_url": case.get_absolute_url(),
        "back_label": f"{case.reference} · {case.title}",
    }
    return render(request, "core/workspace/form_page.html", context)


@casework
@reauthenticate
def send_rota(request: HttpRequest, partner_id: int) -> HttpResponse:
    user, mission = acting_user(request), active_mission(request)
    partner = get_object_or_404(selectors.usable_partners(user, mission), pk=partner_id)
    hearings = services.rota_hearings(selectors.upcoming_hearings(user, mission), partner)
    form = forms.RotaForm(posted(request), hearings=hearings)
    if request.method == "POST" and form.is_valid():
        try:
            disclosure, blob = services.send_rota(
                mission=mission,
                partner=partner,
                actor=user,
                reason=form.cleaned_data["reason"],
                lines=form.lines(),
            )
            return _bundle_response(disclosure, blob)
        except services.CoordinationError as error:
            form.add_error(None, str(error))
        except ValidationError as error:
            apply_errors(form, error)
    context = {
        "form": form,
        "title": _("Trial-observation rota for %(name)s") % {"name": partner.name},
        "submit": _("Make the rota and download it"),
        "cancel": reverse("coordination:index"),
        "intro": (
            _("Upcoming hearings of cases whose consent names %(name)s. Say who observes each.")
            % {"name": partner.name}
            if hearings
            else _(
                "No upcoming hearing can go to %(name)s: none is of a case whose consent names it."
            )
            % {"name": partner.name}
        ),
    }
    return render(request, "core/workspace/form_page.html", context)


@casework
def import_bundle(request: HttpRequest) -> HttpResponse:
    """Upload → preview (nothing stored) → confirm (checked again, then stored)."""
    user, mission = acting_user(request), active_mission(request)
    if request.method == "POST" and "bundle_data" in request.POST:
        confirm = forms.ConfirmImportForm(request.POST)
        blob = _decoded(confirm)
        if blob is not None:
            try:
                received, created = services.import_bundle(mission=mission, actor=user, blob=blob)
            except services.BundleRefused as error:
                return _import_page(request, forms.ImportForm(), refused=str(error))
            if created:
                messages.success(request, _("Imported."))
            return redirect(received.get_absolute_url())
        return _import_page(request, forms.ImportForm(), refused=_("Upload the file again."))
    form = forms.ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["bundle"]
        blob = upload.read(services.MAX_BUNDLE_BYTES + 1)
        try:
            opened = services.open_received(mission=mission, actor=user, blob=blob)
        except services.BundleRefused as error:
            return _import_page(request, form, refused=str(error))
        confirm = forms.ConfirmImportForm(initial={"bundle_data": base64.b64encode(blob).decode()})
        context = {"opened": opened, "reading": opened.reading(), "confirm": confirm}
        return render(request, "coordination/import_preview.html", context)
    return _import_page(request, form)


def _decoded(form: forms.ConfirmImportForm) -> bytes | None:
    if not form.is_valid():
        return None
    try:
        return base64.b64decode(form.cleaned_data["bundle_data"], validate=True)
    except (binascii.Error, ValueError):
        return None


def _import_page(request: HttpRequest, form: forms.ImportForm, refused: str = "") -> HttpResponse:
    status = 400 if refused else 200
    return render(
        request, "coordination/import.html", {"form": form, "refused": refused}, status=status
    )


@casework
def received_detail(request: HttpRequest, received_id: int) -> HttpResponse:
    user, mission = acting_user(request), active_mission(request)
    received = get_object_or_404(selectors.received(user, mission), pk=received_id)
    reading = services.bundles.read_payload(
        received.payload, sender=received.partner.name, recipient=mission.name
    )
    record_read(actor=user, mission=mission, obj=received, fields=["payload"])
    return render(request, "coordination/received.html", {"received": received, "reading": reading})
