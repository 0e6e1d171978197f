"""Forms of trial and detention monitoring and of the civic-space register."""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from haven.cases.forms import caseworkers
from haven.cases.models import Reliability, SourceType
from haven.core.forms import DateInput, text_field
from haven.core.models import Mission
from haven.core.vocab.fair_trial import AFTER, FAIR_TRIAL, PRE_TRIAL, TRIAL
from haven.monitoring.models import (
    Access,
    Assessment,
    CivicEventKind,
    CounselStatus,
    Tribunal,
    VisitStatus,
)

BLANK: list[tuple[str, Any]] = [("", "—")]


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class MissionTimeField(forms.DateTimeField):
    """A date and time typed in the mission's time zone (a court's clock, not the server's)."""

    widget = DateTimeInput

    PATTERNS = ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M")

    def __init__(self, *args: Any, zone: str, **kwargs: Any) -> None:
        self.zone = zoneinfo.ZoneInfo(zone)
        super().__init__(*args, **kwargs)

    def to_python(self, value: Any) -> datetime.datetime | None:
        if isinstance(value, str) and value.strip():
            for pattern in self.PATTERNS:
                try:
                    naive = datetime.datetime.strptime(value.strip(), pattern)
                except ValueError:
                    continue
                return naive.replace(tzinfo=self.zone)
            raise forms.ValidationError(_("Give a date and a time, for example 2026-03-14 09:30."))
        result = super().to_python(value)
        return result

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, datetime.datetime):
            return value.astimezone(self.zone).strftime("%Y-%m-%dT%H:%M")
        return value


class HearingForm(forms.Form):
    court = text_field(
        _("Court"), required=True, max_length=500, help_text=_("Court and room. Kept encrypted.")
    )
    tribunal = forms.ChoiceField(label=_("Kind of tribunal"), choices=Tribunal.choices)
    partner_observers = text_field(
        _("Observers from partner missions"),
        rows=2,
        max_length=2000,
        help_text=_("Which like-minded missions send someone, one per line."),
    )

    def __init__(self, *args: Any, mission: Mission, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["starts_at"] = MissionTimeField(
            label=_("Date and time (the mission's time zone, %(zone)s)")
            % {"zone": mission.timezone},
            zone=mission.timezone,
        )
        self.fields["observers"] = forms.ModelMultipleChoiceField(
            label=_("Observers from the mission"),
            queryset=caseworkers(mission),
            required=False,
            widget=forms.CheckboxSelectMultiple,
        )
        self.order_fields(["starts_at", "court", "tribunal", "observers", "partner_observers"])


class PostponeForm(forms.Form):
    def __init__(self, *args: Any, mission: Mission, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_start"] = MissionTimeField(
            label=_("New date and time, if known"), zone=mission.timezone, required=False
        )


class ReportForm(forms.Form):
    """The observer's report: one assessment and one note per checklist item."""

    summary = text_field(_("What happened"), required=True, rows=6, max_length=20000)
    access = forms.ChoiceField(label=_("Access for observers"), choices=Access.choices)
    authorities_informed = forms.BooleanField(
        label=_("The authorities were told of the observation"), required=False
    )

    PHASES = (
        (PRE_TRIAL, _("Before the trial")),
        (TRIAL, _("At the trial")),
        (AFTER, _("After the trial")),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for term in FAIR_TRIAL:
            self.fields[f"item_{term.code}"] = forms.ChoiceField(
                label=str(term.label),
                choices=Assessment.choices,
                initial=Assessment.NOT_OBSERVABLE,
            )
            self.fields[f"notes_{term.code}"] = text_field(
                _("Notes on: %(item)s") % {"item": term.label}, max_length=5000
            )

    def phases(self) -> list[tuple[Any, list[tuple[Any, Any]]]]:
        return [
            (
                title,
                [
                    (self[f"item_{t.code}"], self[f"notes_{t.code}"])
                    for t in FAIR_TRIAL
                    if t["phase"] == phase
                ],
            )
            for phase, title in self.PHASES
        ]

    def checklist(self) -> dict[str, dict[str, str]]:
        return {
            t.code: {
                "assessment": self.cleaned_data[f"item_{t.code}"],
                "notes": self.cleaned_data[f"notes_{t.code}"],
            }
            for t in FAIR_TRIAL
        }

    @classmethod
    def initial_from(cls, report: Any) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "summary": report.summary,
            "access": report.access,
            "authorities_informed": report.authorities_informed,
        }
        for code, entry in report.checklist.items():
            initial[f"item_{code}"] = entry.get("assessment")
            initial[f"notes_{code}"] = entry.get("notes", "")
        return initial


class DetentionForm(forms.Form):
    detained_on = forms.DateField(
        label=_("Detained on"), widget=DateInput, initial=timezone.localdate
    )
    place = text_field(_("Where held"), max_length=1000, help_text=_("Kept encrypted."))
    acknowledged = forms.BooleanField(
        label=_("The authorities acknowledge the detention"), required=False
    )
    location_disclosed = forms.BooleanField(
        label=_("The place of detention is disclosed"), required=False
    )
    family_contact = forms.BooleanField(label=_("Contact with family allowed"), required=False)
    lawyer_contact = forms.BooleanField(label=_("Contact with a lawyer allowed"), required=False)
    humanitarian_contact = forms.BooleanField(
        label=_("Contact with humanitarian organisations allowed"), required=False
    )
    rights_groups_contact = forms.BooleanField(
        label=_("Contact with human rights organisations allowed"), required=False
    )
    counsel = forms.ChoiceField(label=_("Legal counsel"), choices=CounselStatus.choices)
    health_concerns = text_field(
        _("Health concerns"), rows=3, max_length=5000, help_text=_("Kept encrypted.")
    )


class DetentionEditForm(DetentionForm):
    released_on = forms.DateField(label=_("Released on"), widget=DateInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["detained_on"]


class VisitForm(forms.Form):
    requested_on = forms.DateField(
        label=_("Requested on"), widget=DateInput, initial=timezone.localdate
    )
    visit_on = forms.DateField(label=_("Visit date, if set"), widget=DateInput, required=False)


class VisitUpdateForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=VisitStatus.choices)
    visit_on = forms.DateField(label=_("Visit date"), widget=DateInput, required=False)
    outcome = text_field(_("Outcome"), rows=3, max_length=10000)


class CivicEventForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=CivicEventKind.choices)
    title = text_field(_("Title"), required=True, max_length=200)
    starts_on = forms.DateField(label=_("From"), widget=DateInput, initial=timezone.localdate)
    ends_on = forms.DateField(label=_("Until"), widget=DateInput, required=False)
    region = forms.CharField(label=_("Region"), max_length=100, required=False)
    source_type = forms.ChoiceField(label=_("Source"), choices=SourceType.choices)
    reliability = forms.ChoiceField(
        label=_("Reliability of the source"),
        choices=Reliability.choices,
        initial=Reliability.UNKNOWN,
    )
    description = text_field(
        _("What happened"), rows=5, max_length=20000, help_text=_("Kept encrypted; never exported.")
    )
    case_numbers = forms.CharField(
        label=_("Cases it touches"),
        required=False,
        max_length=500,
        help_text=_("Case numbers separated by commas, for example C-12, C-40."),
    )

    def case_numbers_list(self) -> list[int]:
        numbers = []
        for part in self.cleaned_data.get("case_numbers", "").replace(";", ",").split(","):
            text = part.strip().upper().removeprefix("C-")
            if not text:
                continue
            if not text.isdigit():
                raise forms.ValidationError(
                    _("“%(value)s” is not a case number.") % {"value": part.strip()[:20]}
                )
            numbers.append(int(text))
        return numbers


class CivicFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"), choices=BLANK + CivicEventKind.choices, required=False
    )
    region = forms.CharField(label=_("Region"), max_length=100, required=False)
    since = forms.DateField(label=_("From"), widget=DateInput, required=False)
    until = forms.DateField(label=_("Until"), widget=DateInput, required=False)
