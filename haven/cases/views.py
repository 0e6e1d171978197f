"""Workspace pages of cases. Thin: find the case in the user's scope (a restricted case outside
the user's team is a 404, as another mission's), call a service, render."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from haven.accounts.models import Membership, User
from haven.audit.services import record_read
from haven.cases import extensions, forms, relocation, selectors, services
from haven.cases.models import Action, Case, CaseMember, Notice, RelocationTask
from haven.core.access import requires_role
from haven.core.http import acting_user, active_mission, apply_errors, form_page, posted
from haven.intake import services as intake
from haven.intake.models import Submission
from haven.intake.selectors import submissions
from haven.registry import selectors as registry
from haven.registry.models import Defender, Organisation
from haven.registry.services import PossibleDuplicates

casework = requires_role("admin", "officer")


def _case(request: HttpRequest, case_id: int) -> Case:
    return get_object_or_404(
        selectors.cases(acting_user(request), active_mission(request)).select_related(
            "mission", "owner", "second_officer", "defender", "organisation", "submission"
        ),
        pk=case_id,
    )


def _form_page(
    request: HttpRequest,
    form: Form,
    *,
    case: Case | None,
    title: str,
    submit: str,
    act: Callable[[], str],
    intro: str = "",
) -> HttpResponse:
    """A form page about ``case`` (linked above the title), whose case rules show above it."""
    return form_page(
        request,
        form,
        title=title,
        submit=submit,
        cancel=case.get_absolute_url() if case else reverse("cases:list"),
        act=act,
        intro=intro,
        refused=(services.CaseError, PossibleDuplicates, relocation.RelocationError),
        back_url=case.get_absolute_url() if case else "",
        back_label=f"{case.reference} · {case.title}" if case else "",
    )


# -- list and opening


@casework
def case_list(request: HttpRequest) -> HttpResponse:
    form = forms.CaseFilterForm(request.GET or None)
    values = form.cleaned_data if form.is_bound and form.is_valid() else {}
    filters = selectors.CaseFilters(
        q=values.get("q", ""),
        status=values.get("status", ""),
        urgency=values.get("urgency", ""),
        risk_level=values.get("risk_level", ""),
        mine=values.get("mine", False),
        include_closed=values.get("include_closed", False),
        queue=values.get("queue", ""),
    )
    page = selectors.case_page(
        acting_user(request), active_mission(request), filters, request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "cases/list.html", {"form": form, "page": page, "query": query.urlencode()}
    )


def _subject_from_query(request: HttpRequest) -> Defender | Organisation | None:
    for key, rows in (
        ("defender", registry.defenders(acting_user(request), active_mission(request))),
        ("organisation", registry.organisations(acting_user(request), active_mission(request))),
    ):
        value = request.GET.get(key, "")
        if value.isdigit():
            return get_object_or_404(rows, pk=int(value))  # type: ignore[return-value]
    return None


def _find_subject(request: HttpRequest, text: str) -> Defender | Organisation:
    for kind, rows in (
        ("defender", registry.defenders(acting_user(request), active_mission(request))),
        ("organisation", registry.organisations(acting_user(request), active_mission(request))),
    ):
        found = list(rows.filter(registry.search_query(text, kind))[:2])
        if len(found) > 1:
            raise ValidationError(
                {"who": _("Several records match: use a phone number or e-mail address.")}
            )
        if found:
            return found[0]  # type: ignore[return-value]
    raise ValidationError(
        {
            "who": _(
                "No defender or organisation has exactly this name, number or address. "
                "Add them to the registry first."
            )
        }
    )


@casework
def case_new(request: HttpRequest) -> HttpResponse:
    subject = _subject_from_query(request)
    form = forms.NewCaseForm(
        posted(request), mission=active_mission(request), fixed_subject=subject is not None
    )

    def act() -> str:
        data = form.cleaned_data
        chosen = subject or _find_subject(request, data["who"])
        case = services.open_case(
            mission=active_mission(request),
            actor=acting_user(request),
            owner=data.get("owner"),
            title=data["title"],
            summary=data["summary"],
            urgency=data["urgency"],
            restricted=data["restricted"],
            sections=data["sections"],
            defender=chosen if isinstance(chosen, Defender) else None,
            organisation=chosen if isinstance(chosen, Organisation) else None,
        )
        messages.success(request, _("Case %(case)s opened.") % {"case": case.reference})
        return case.get_absolute_url()

    intro = _("About %(name)s.") % {"name": subject.name} if subject else ""
    return _form_page(
        request,
        form,
        case=None,
        title=_("Open a case"),
        submit=_("Open the case"),
        act=act,
        intro=intro,
    )


@casework
def case_from_submission(request: HttpRequest, submission_id: int) -> HttpResponse:
    """Triage a portal request into a case (registering the person if needed)."""
    submission: Submission = get_object_or_404(
        submissions(acting_user(request), active_mission(request)), pk=submission_id
    )
    existing = selectors.cases(acting_user(request), active_mission(request)).filter(
        submission=submission
    )
    if existing.exists():
        return redirect(existing.first().get_absolute_url())  # type: ignore[union-attr]
    if request.method != "POST":
        return render(request, "cases/from_submission.html", {"submission": submission})
    try:
        case = services.open_case_from_submission(submission=submission, actor=acting_user(request))
    except PossibleDuplicates as error:
        messages.error(request, str(error))
        return redirect(reverse("intake:submission", kwargs={"submission_id": submission.pk}))
    messages.success(
        request, _("Case %(case)s opened from the request.") % {"case": case.reference}
    )
    return redirect(case.get_absolute_url())


# -- one case


def _conversation(case: Case) -> list[dict[str, Any]]:
    """The portal messages of the request the case came from (they carry a day, no time)."""
    if case.submission is None:
        return []
    zone = timezone.get_current_timezone()
    return [
        {
            "kind": "message",
            "at": datetime.datetime.combine(message.sent_on, datetime.time.min, tzinfo=zone),
            "row": message,
            "text": text,
        }
        for message, text in intake.conversation_for_mission(case.submission)
    ]


@casework
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    user = acting_user(request)
    selectors.prime_case_keys(case)
    record_read(actor=user, mission=active_mission(request), obj=case)
    Notice.objects.filter(case=case, user=user, seen_at__isnull=True).update(seen_at=timezone.now())
    entries = selectors.timeline(case) + _conversation(case)
    entries.sort(key=lambda entry: entry["at"], reverse=True)
    context = {
        "case": case,
        "timeline": entries,
        "actions": selectors.case_actions(case),
        "members": CaseMember.objects.filter(case=case).select_related("user"),
        "move_form": forms.MoveForm(initial={"to": case.status}),
        "panels": extensions.panels_for(request, case),
        "relocation": relocation.tasks_by_phase(case),
        "today": timezone.localdate(),
    }
    return render(request, "cases/case.html", context)


@casework
def case_edit(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    names = ["title", "summary", "urgency", "restricted", "sections", "next_contact_on"]
    form = forms.CaseEditForm(
        posted(request), initial={name: getattr(case, name) for name in names}
    )

    def act() -> str:
        services.update_case(case=case, actor=acting_user(request), changes=form.cleaned_data)
        return case.get_absolute_url()

    return _form_page(
        request,
        form,
        case=case,
        title=_("Edit %(case)s") % {"case": case},
        submit=_("Save"),
        act=act,
    )


@casework
def case_move(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    form = forms.MoveForm(posted(request), initial={"to": case.status})

    def act() -> str:
        services.move_case(case=case, actor=acting_user(request), **form.cleaned_data)
        return case.get_absolute_url()

    return _form_page(
        request,
        form,
        case=case,
        title=_("Move %(case)s") % {"case": case},
        submit=_("Move"),
        act=act,
    )


@casework
def case_reopen(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    form = Form(posted(request))

    def act() -> str:
        services.reopen_case(case=case, actor=acting_user(request))
        return case.get_absolute_url()

    return _form_page(
        request,
        form,
        case=case,
        title=_("Reopen %(case)s") % {"case": case},
        submit=_("Reopen"),
        act=act,
    )


@casework
def case_assign(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    form = forms.AssignForm(
        posted(request),
        mission=active_mission(request),
        initial={"owner": case.owner_id, "second_officer": case.second_officer_id},
    )

    def act() -> str:
        data = form.cleaned_data
        services.assign(
            case=case,
            actor=acting_user(request),
            owner=data["owner"],
            second_officer=data["second_officer"],
            clear_second=data["second_officer"] is None,
        )
        return case.get_absolute_url()

    return _form_page(
        request,
        form,
        case=case,
        title=_("Who works on %(case)s") % {"case": case},
        submit=_("Save"),
        act=act,
    )


@casework
def case_team(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    form = forms.TeamForm(posted(request), mission=active_mission(request))
    remove = request.POST.get("remove", "") if request.method == "POST" else ""
    if remove.isdigit():
        member = get_object_or_404(CaseMember, case=case, user_id=int(remove))
        services.remove_team_member(case=case, actor=acting_user(request), user=member.user)
        return redirect(reverse("cases:team", args=[case.pk]))
    if request.method == "POST" and form.is_valid():
        try:
            services.add_team_member(
                case=case, actor=acting_user(request), user=form.cleaned_data["user"]
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            return redirect(reverse("cases:team", args=[case.pk]))
    members = CaseMember.objects.filter(case=case).select_related("user")
    return render(request, "cases/team.html", {"case": case, "form": form, "members": members})


def _case_form(
    request: HttpRequest,
    case_id: int,
    form_class: type[Form],
    service: Callable[..., Any],
    title: str,
    submit: str,
    *,
    with_mission: bool = False,
    prepare: Callable[[dict[str, Any]], dict[str, Any]] = dict,
) -> HttpResponse:
    case = _case(request, case_id)
    extra: dict[str, Any] = {"mission": active_mission(request)} if with_mission else {}
    form = form_class(posted(request), **extra)

    def act() -> str:
        service(case=case, actor=acting_user(request), **prepare(form.cleaned_data))
        return case.get_absolute_url()

    return _form_page(
        request, form, case=case, title=title % {"case": case}, submit=submit, act=act
    )


@casework
def incident_new(request: HttpRequest, case_id: int) -> HttpResponse:
    return _case_form(
        request,
        case_id,
        forms.IncidentForm,
        services.record_incident,
        _("Log an incident on %(case)s"),
        _("Log it"),
    )


def _assessment(data: dict[str, Any]) -> dict[str, Any]:
    return {
        **data,
        "threats": forms.AssessmentForm.split(data["threats"]),
        "vulnerabilities": forms.AssessmentForm.split(data["vulnerabilities"]),
        "capacities": forms.AssessmentForm.split(data["capacities"]),
    }


@casework
def assessment_new(request: HttpRequest, case_id: int) -> HttpResponse:
    return _case_form(
        request,
        case_id,
        forms.AssessmentForm,
        services.record_assessment,
        _("Assess the risk on %(case)s"),
        _("Record the assessment"),
        with_mission=True,
        prepare=_assessment,
    )


@casework
def action_new(request: HttpRequest, case_id: int) -> HttpResponse:
    return _case_form(
        request,
        case_id,
        forms.ActionForm,
        services.plan_action,
        _("Plan an action on %(case)s"),
        _("Plan it"),
        with_mission=True,
    )


@casework
def follow_up_new(request: HttpRequest, case_id: int) -> HttpResponse:
    return _case_form(
        request,
        case_id,
        forms.FollowUpForm,
        services.record_follow_up,
        _("Record a contact on %(case)s"),
        _("Record it"),
    )


@casework
def note_new(request: HttpRequest, case_id: int) -> HttpResponse:
    return _case_form(
        request,
        case_id,
        forms.NoteForm,
        services.add_note,
        _("Add a note to %(case)s"),
        _("Add it"),
    )


@casework
def send_update(request: HttpRequest, case_id: int) -> HttpResponse:
    return _case_form(
        request,
        case_id,
        forms.UpdateForm,
        services.send_update,
        _("Send an update to the defender of %(case)s"),
        _("Send it"),
    )


@casework
def action_detail(request: HttpRequest, action_id: int) -> HttpResponse:
    action: Action = get_object_or_404(
        Action.objects.for_user(
            acting_user(request), mission=active_mission(request)
        ).select_related("case"),
        pk=action_id,
    )
    names = [
        "status",
        "outcome",
        "host_response",
        "defender_told",
        "reprisal_check",
        "due_on",
        "next_contact_on",
    ]
    form = forms.ActionUpdateForm(
        posted(request), initial={name: getattr(action, name) for name in names}
    )

    def act() -> str:
        services.update_action(action=action, actor=acting_user(request), changes=form.cleaned_data)
        return action.case.get_absolute_url()

    intro = " ".join(services.consent_gate(action.case, action.action_type))
    return _form_page(
        request,
        form,
        case=action.case,
        title=f"{action.get_action_type_display()} · {action.case}",
        submit=_("Save"),
        act=act,
        intro=intro,
    )


# -- handover


@casework
def handover(request: HttpRequest) -> HttpResponse:
    form = forms.HandoverChooseForm(request.GET or None, mission=active_mission(request))
    if form.is_bound and form.is_valid():
        membership = get_object_or_404(
            Membership, mission=active_mission(request), user=form.cleaned_data["officer"]
        )
        return redirect(reverse("cases:handover_officer", kwargs={"membership_id": membership.pk}))
    return render(request, "cases/handover_choose.html", {"form": form})


def _officer(request: HttpRequest, membership_id: int) -> User:
    membership = get_object_or_404(Membership, pk=membership_id, mission=active_mission(request))
    return membership.user


@casework
def handover_officer(request: HttpRequest, membership_id: int) -> HttpResponse:
    officer = _officer(request, membership_id)
    cases = list(selectors.handover_cases(acting_user(request), active_mission(request), officer))
    form = forms.HandoverForm(
        posted(request), mission=active_mission(request), cases=cases, officer=officer
    )
    if request.method == "POST" and form.is_valid():
        moves = [
            services.HandoverMove(
                case, form.cleaned_data[f"to_{case.pk}"], form.cleaned_data[f"note_{case.pk}"]
            )
            for case in cases
            if form.cleaned_data.get(f"to_{case.pk}")
        ]
        try:
            done = services.hand_over(actor=acting_user(request), moves=moves)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(
                request,
                ngettext("%(count)d case handed over.", "%(count)d cases handed over.", len(done))
                % {"count": len(done)},
            )
            return redirect(
                reverse("cases:handover_officer", kwargs={"membership_id": membership_id})
            )
    return render(
        request,
        "cases/handover.html",
        {"form": form, "officer": officer, "membership_id": membership_id},
    )


@casework
def handover_packet(request: HttpRequest, membership_id: int) -> HttpResponse:
    """A printable summary of an officer's open cases for whoever takes them over."""
    officer = _officer(request, membership_id)
    cases = list(
        selectors.handover_cases(
            acting_user(request), active_mission(request), officer
        ).prefetch_related("actions", "followups", "notes", "handovers")
    )
    for case in cases:
        record_read(
            actor=acting_user(request),
            mission=active_mission(request),
            obj=case,
            fields=["handover_packet"],
        )
    return render(
        request,
        "cases/handover_packet.html",
        {"officer": officer, "cases": cases, "printed_at": timezone.now()},
    )


# -- relocation


@casework
def relocation_plan(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    form = forms.RelocationForm(posted(request))

    def act() -> str:
        relocation.plan_relocation(case=case, actor=acting_user(request), **form.cleaned_data)
        return case.get_absolute_url()

    return _form_page(
        request,
        form,
        case=case,
        title=_("Plan a temporary relocation"),
        submit=_("Plan it"),
        act=act,
        intro=_(
            "The standard tasks are added with due dates from these two dates: before "
            "departure, during the stay, at the return, and follow-ups after it."
        ),
    )


@casework
def relocation_task_done(request: HttpRequest, task_id: int) -> HttpResponse:
    """POST marks the task done; any other method just goes back to the case."""
    rows = RelocationTask.objects.for_user(acting_user(request), mission=active_mission(request))
    task = get_object_or_404(rows.select_related("case"), pk=task_id)
    if request.method == "POST":
        relocation.complete_task(task=task, actor=acting_user(request))
    return redirect(task.case.get_absolute_url())
