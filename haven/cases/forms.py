"""Forms of the cases workspace. Each lists its fields; the services do the checking that
matters (consent, the second officer, legal moves)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from haven.accounts.models import User
from haven.cases.models import (
    ActionStatus,
    CaseStatus,
    ClosureReason,
    ContactMethod,
    HostResponse,
    Involvement,
    Reliability,
    SourceType,
    Verification,
)
from haven.core.choices import RiskLevel, Urgency
from haven.core.forms import DateInput, text_field
from haven.core.models import CASEWORK_ROLES, Mission
from haven.core.vocab.mission_actions import MISSION_ACTIONS
from haven.core.vocab.sections import SECTIONS
from haven.core.vocab.threats import PERPETRATOR_TYPES, THREAT_TYPES

BLANK: list[tuple[str, Any]] = [("", "—")]


def _date(label: Any, *, required: bool = False, **kwargs: Any) -> forms.DateField:
    return forms.DateField(label=label, required=required, widget=DateInput, **kwargs)


def caseworkers(mission: Mission) -> QuerySet[User]:
    """The mission's admins and officers: who may own a case or an action."""
    return (
        User.objects.filter(
            memberships__mission=mission, memberships__role__in=CASEWORK_ROLES, is_active=True
        )
        .order_by("username")
        .distinct()
    )


class MemberChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.get_full_name() or obj.username)


def _member(label: Any, mission: Mission, *, required: bool = True, **kwargs: Any) -> Any:
    return MemberChoiceField(
        label=label, queryset=caseworkers(mission), required=required, **kwargs
    )


class CaseFilterForm(forms.Form):
    q = forms.CharField(label=_("Case number"), required=False, max_length=20)
    status = forms.ChoiceField(
        label=_("Status"), choices=BLANK + CaseStatus.choices, required=False
    )
    urgency = forms.ChoiceField(label=_("Urgency"), choices=BLANK + Urgency.choices, required=False)
    risk_level = forms.ChoiceField(
        label=_("Risk"), choices=BLANK + RiskLevel.choices, required=False
    )
    mine = forms.BooleanField(label=_("Only mine"), required=False)
    include_closed = forms.BooleanField(label=_("Include closed cases"), required=False)
    queue = forms.ChoiceField(
        choices=[
            ("", ""),
            ("overdue", ""),
            ("awaiting", ""),
            ("review_due", ""),
            ("quiet", ""),
        ],
        required=False,
        widget=forms.HiddenInput,
    )


class CaseForm(forms.Form):
    title = text_field(
        _("Title"),
        required=True,
        max_length=200,
        help_text=_("A few words the team will recognise. Kept encrypted."),
    )
    summary = text_field(_("Summary"), rows=5, max_length=20000)
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices, initial="medium")
    restricted = forms.BooleanField(
        label=_("Restricted: only the case team sees it"),
        required=False,
        help_text=_("It will not appear in any list, count or search for anyone else."),
    )
    sections = forms.MultipleChoiceField(
        label=_("Bring in sections"),
        choices=SECTIONS.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Members of these sections see the case and work on it."),
    )


class NewCaseForm(CaseForm):
    who = forms.CharField(
        label=_("Defender or organisation"),
        max_length=200,
        help_text=_("Their exact name, phone number or e-mail address, as in the registry."),
    )

    def __init__(self, *args: Any, mission: Mission, fixed_subject: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"] = _member(_("Owner"), mission, required=False)
        self.fields["owner"].help_text = _("Empty: you.")
        if fixed_subject:
            del self.fields["who"]


class CaseEditForm(CaseForm):
    next_contact_on = _date(_("Next contact with the defender"))


class MoveForm(forms.Form):
    to = forms.ChoiceField(label=_("Move the case to"), choices=CaseStatus.choices)
    reason = forms.ChoiceField(
        label=_("Reason for closing"),
        choices=BLANK + ClosureReason.choices,
        required=False,
        help_text=_("Needed when closing."),
    )


class AssignForm(forms.Form):
    def __init__(self, *args: Any, mission: Mission, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"] = _member(_("Owner"), mission)
        self.fields["second_officer"] = _member(
            _("Second officer"),
            mission,
            required=False,
            help_text=_("Needed once the risk is high or critical."),
        )


class TeamForm(forms.Form):
    def __init__(self, *args: Any, mission: Mission, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"] = _member(_("Add to the case team"), mission)


class IncidentForm(forms.Form):
    incident_type = forms.ChoiceField(
        label=_("What kind of incident"), choices=THREAT_TYPES.choices
    )
    occurred_on = _date(_("When"), required=True, initial=timezone.localdate)
    place = text_field(_("Where"), max_length=1000, help_text=_("Kept encrypted."))
    description = text_field(_("What happened"), required=True, rows=5, max_length=20000)
    perpetrator_type = forms.ChoiceField(
        label=_("Alleged perpetrator"), choices=PERPETRATOR_TYPES.choices, initial="unknown"
    )
    involvement = forms.ChoiceField(
        label=_("Their involvement"), choices=Involvement.choices, initial=Involvement.UNKNOWN
    )
    source_type = forms.ChoiceField(label=_("Source"), choices=SourceType.choices)
    reliability = forms.ChoiceField(
        label=_("Reliability of the source"),
        choices=Reliability.choices,
        initial=Reliability.UNKNOWN,
    )
    verification = forms.ChoiceField(
        label=_("Verified"), choices=Verification.choices, initial=Verification.UNKNOWN
    )
    specific_threat = forms.BooleanField(
        label=_("This is a specific, direct threat"),
        required=False,
        help_text=_("The case goes to at least high risk and a review is due within a week."),
    )


def _lines(label: Any, help_text: Any) -> forms.CharField:
    return text_field(label, rows=4, max_length=20000, help_text=help_text)


class AssessmentForm(forms.Form):
    threats = _lines(_("Threats"), _("One per line: who threatens what, how concretely."))
    vulnerabilities = _lines(
        _("Vulnerabilities"), _("One per line: what exposes them (location, no lawyer…).")
    )
    capacities = _lines(
        _("Capacities"), _("One per line: what protects them (networks, legal support…).")
    )
    level = forms.ChoiceField(
        label=_("Risk level (your judgement)"), choices=RiskLevel.choices, initial="medium"
    )
    imminent = forms.BooleanField(label=_("Harm may be imminent"), required=False)
    rationale = text_field(_("Why this level"), required=True, rows=4, max_length=10000)
    next_review_on = _date(
        _("Review again by"), help_text=_("Empty: 7 days for critical, 14 high, 30 medium, 90 low.")
    )

    def __init__(self, *args: Any, mission: Mission, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["second_officer"] = _member(
            _("Second officer"),
            mission,
            required=False,
            help_text=_("Needed for high or critical risk if the case has none."),
        )

    @staticmethod
    def split(text: str) -> list[str]:
        return [line.strip() for line in text.splitlines() if line.strip()]


class ActionForm(forms.Form):
    action_type = forms.ChoiceField(label=_("Action"), choices=MISSION_ACTIONS.choices)
    due_on = _date(_("Due"))
    details = text_field(_("Details"), rows=3, max_length=10000)
    reprisal_check = text_field(
        _("Reprisal check"),
        rows=3,
        max_length=5000,
        help_text=_(
            "For an action that shows or names them: who could suffer reprisals (them, family, "
            "community, local staff) and why it is still safe."
        ),
    )
    next_contact_on = _date(_("Next contact"))

    def __init__(self, *args: Any, mission: Mission, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"] = _member(_("Who does it"), mission, required=False)
        self.fields["owner"].help_text = _("Empty: you.")


class ActionUpdateForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=ActionStatus.choices)
    outcome = text_field(_("Outcome"), rows=3, max_length=10000)
    host_response = forms.ChoiceField(
        label=_("Host government's response"), choices=BLANK + HostResponse.choices, required=False
    )
    defender_told = forms.BooleanField(label=_("The defender was told the outcome"), required=False)
    reprisal_check = text_field(_("Reprisal check"), rows=3, max_length=5000)
    due_on = _date(_("Due"))
    next_contact_on = _date(_("Next contact"))


class FollowUpForm(forms.Form):
    contacted_on = _date(_("Contacted on"), required=True, initial=timezone.localdate)
    method = forms.ChoiceField(label=_("How"), choices=ContactMethod.choices)
    summary = text_field(_("What was said"), rows=3, max_length=20000)
    next_contact_on = _date(_("Next contact"))


class NoteForm(forms.Form):
    text = text_field(_("Note"), required=True, rows=4, max_length=20000)


class UpdateForm(forms.Form):
    text = text_field(
        _("Update for the defender"),
        required=True,
        rows=4,
        max_length=20000,
        help_text=_("Sealed to their receipt: only they can read it, on the portal."),
    )


class HandoverChooseForm(forms.Form):
    def __init__(self, *args: Any, mission: Mission, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["officer"] = _member(_("Whose cases"), mission)


class HandoverForm(forms.Form):
    """One new owner and one note per case of the departing officer."""

    def __init__(
        self, *args: Any, mission: Mission, cases: list[Any], officer: User, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.cases = cases
        others = caseworkers(mission).exclude(pk=officer.pk)
        for case in cases:
            self.fields[f"to_{case.pk}"] = MemberChoiceField(
                label=_("New owner of %(case)s") % {"case": case.reference},
                queryset=others,
                required=False,
            )
            self.fields[f"note_{case.pk}"] = text_field(
                _("Handover note for %(case)s") % {"case": case.reference},
                rows=3,
                max_length=20000,
            )

    def rows(self) -> list[tuple[Any, Any, Any]]:
        return [(case, self[f"to_{case.pk}"], self[f"note_{case.pk}"]) for case in self.cases]


class RelocationForm(forms.Form):
    departs_on = forms.DateField(label=_("Departure"), widget=DateInput)
    returns_on = forms.DateField(label=_("Planned return"), widget=DateInput)
