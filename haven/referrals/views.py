"""Workspace pages of the referral directory and of referrals. Thin."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from haven.cases import selectors as case_selectors
from haven.cases.models import Case
from haven.core.access import requires_role
from haven.core.http import acting_user, active_mission, form_page, posted
from haven.referrals import forms, selectors, services
from haven.referrals.models import Mechanism, Referral

casework = requires_role("admin", "officer")
REFUSED = (services.ReferralError,)


def _mechanism(request: HttpRequest, mechanism_id: int) -> Mechanism:
    rows = Mechanism.objects.for_user(acting_user(request), mission=active_mission(request))
    return get_object_or_404(rows, pk=mechanism_id)


@casework
def directory(request: HttpRequest) -> HttpResponse:
    form = forms.DirectoryFilterForm(request.GET or None)
    values = form.cleaned_data if form.is_bound and form.is_valid() else {}
    rows = selectors.directory(acting_user(request), active_mission(request), values)
    return render(request, "referrals/directory.html", {"form": form, "mechanisms": rows})


@casework
def mechanism_new(request: HttpRequest) -> HttpResponse:
    form = forms.MechanismForm(posted(request))

    def act() -> str:
        mechanism = services.add_mechanism(
            mission=active_mission(request), actor=acting_user(request), **form.cleaned_data
        )
        return mechanism.get_absolute_url()

    return form_page(
        request,
        form,
        title=_("Add a mechanism"),
        submit=_("Add it"),
        cancel=reverse("referrals:directory"),
        act=act,
        refused=REFUSED,
    )


@casework
def mechanism_detail(request: HttpRequest, mechanism_id: int) -> HttpResponse:
    mechanism = _mechanism(request, mechanism_id)
    names = list(services.MECHANISM_FIELDS)
    form = forms.MechanismForm(
        posted(request), initial={name: getattr(mechanism, name) for name in names}
    )

    def act() -> str:
        services.update_mechanism(
            mechanism=mechanism, actor=acting_user(request), changes=form.cleaned_data
        )
        messages.success(request, _("Saved."))
        return mechanism.get_absolute_url()

    return form_page(
        request,
        form,
        title=mechanism.name,
        submit=_("Save"),
        cancel=reverse("referrals:directory"),
        act=act,
        refused=REFUSED,
        intro=(
            _("Last verified %(date)s.") % {"date": mechanism.last_verified_on.isoformat()}
            if mechanism.last_verified_on
            else _("Never verified.")
        ),
    )


@casework
def mechanism_verify(request: HttpRequest, mechanism_id: int) -> HttpResponse:
    """POST marks the entry checked today; any other method just goes back to the directory."""
    mechanism = _mechanism(request, mechanism_id)
    if request.method == "POST":
        services.verify_mechanism(mechanism=mechanism, actor=acting_user(request))
        messages.success(
            request, _("%(name)s is marked verified today.") % {"name": mechanism.name}
        )
    return redirect("referrals:directory")


@casework
def referral_new(request: HttpRequest, case_id: int) -> HttpResponse:
    case: Case = get_object_or_404(
        case_selectors.cases(acting_user(request), active_mission(request)), pk=case_id
    )
    form = forms.ReferralForm(posted(request), mission=active_mission(request))

    def act() -> str:
        services.refer(case=case, actor=acting_user(request), **form.cleaned_data)
        return case.get_absolute_url()

    return form_page(
        request,
        form,
        title=_("Refer to a mechanism"),
        submit=_("Record the referral"),
        cancel=case.get_absolute_url(),
        act=act,
        refused=REFUSED,
        back_url=case.get_absolute_url(),
        back_label=f"{case.reference} · {case.title}",
    )


@casework
def referral_detail(request: HttpRequest, referral_id: int) -> HttpResponse:
    rows = Referral.objects.for_user(acting_user(request), mission=active_mission(request))
    referral = get_object_or_404(rows.select_related("case", "mechanism"), pk=referral_id)
    form = forms.ReferralUpdateForm(
        posted(request), initial={"status": referral.status, "outcome": referral.outcome}
    )

    def act() -> str:
        services.update_referral(referral=referral, actor=acting_user(request), **form.cleaned_data)
        return referral.case.get_absolute_url()

    case = referral.case
    return form_page(
        request,
        form,
        title=str(referral.mechanism),
        submit=_("Save"),
        cancel=case.get_absolute_url(),
        act=act,
        refused=REFUSED,
        back_url=case.get_absolute_url(),
        back_label=f"{case.reference} · {case.title}",
    )
