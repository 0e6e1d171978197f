"""Forms of the registry. Each lists its fields; the services do the checking that matters."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from haven.core.choices import RiskLevel
from haven.core.forms import DateInput, text_field
from haven.core.vocab.actor_types import ACTOR_TYPES
from haven.core.vocab.channel_types import CHANNEL_TYPES
from haven.core.vocab.consent_scopes import CONSENT_SCOPES
from haven.core.vocab.identity_tags import IDENTITY_TAGS
from haven.core.vocab.work_focus import WORK_FOCUS
from haven.registry.models import (
    ConsentGiver,
    OrganisationKind,
    RelationKind,
    Visibility,
    WithdrawalReason,
)
from haven.registry.services import ChannelInput

BLANK: list[tuple[str, Any]] = [("", "—")]


class EntryForm(forms.Form):
    """What a defender and an organisation share."""

    name = text_field(_("Name"), required=True, max_length=200)
    country = forms.CharField(
        label=_("Country"),
        max_length=2,
        required=False,
        help_text=_("Two-letter ISO 3166 code, for example KE. Empty: the mission's country."),
    )
    region = forms.CharField(
        label=_("Region"),
        max_length=100,
        required=False,
        help_text=_("Province, state or district: used for reach statistics, so keep it broad."),
    )
    work_focus = forms.MultipleChoiceField(
        label=_("Work focus"),
        choices=WORK_FOCUS.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    visibility = forms.ChoiceField(
        label=_("Visibility they want"), choices=Visibility.choices, initial=Visibility.DISCREET
    )
    notes = text_field(_("Notes"), rows=4, max_length=20000)

    def values(self) -> dict[str, Any]:
        values = dict(self.cleaned_data)
        if not values.get("country"):
            values.pop("country", None)
        return values


class DefenderForm(EntryForm):
    known_as = text_field(
        _("Also known as"),
        rows=2,
        max_length=1000,
        help_text=_("Other names or spellings, one per line."),
    )
    place = text_field(
        _("Exact place"),
        rows=2,
        max_length=1000,
        help_text=_("Town, village or address. Kept encrypted."),
    )
    actor_type = forms.ChoiceField(
        label=_("Actor type"), choices=BLANK + ACTOR_TYPES.choices, required=False
    )
    identity_tags = forms.MultipleChoiceField(
        label=_("Identity tags (optional, protected)"),
        choices=IDENTITY_TAGS.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only when the work needs them. Seen only by members allowed to see them."),
    )
    field_order = [
        "name",
        "known_as",
        "country",
        "region",
        "place",
        "actor_type",
        "work_focus",
        "identity_tags",
        "visibility",
        "notes",
    ]

    def __init__(self, *args: Any, show_identity_tags: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not show_identity_tags:
            del self.fields["identity_tags"]


class OrganisationForm(EntryForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=OrganisationKind.choices)
    field_order = ["name", "kind", "country", "region", "work_focus", "visibility", "notes"]


class ChannelForm(forms.Form):
    channel_type = forms.ChoiceField(label=_("Channel"), choices=BLANK + CHANNEL_TYPES.choices)
    value = forms.CharField(
        label=_("Number, address or details"),
        max_length=500,
        help_text=_(
            "A phone number with its country code, an e-mail address, or how to reach them."
        ),
    )
    safety_notes = text_field(
        _("When it is safe"),
        max_length=1000,
        help_text=_("For example: only after 6 pm, never at work."),
    )
    preferred = forms.BooleanField(label=_("Their preferred channel"), required=False)

    def channel(self) -> ChannelInput:
        data = self.cleaned_data
        return ChannelInput(
            data["channel_type"], data["value"], data.get("safety_notes", ""), data["preferred"]
        )


class OptionalChannelForm(ChannelForm):
    """A channel row of the new-record form: a row left empty is simply skipped."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["channel_type"].required = False
        self.fields["value"].required = False
        self.fields["value"].help_text = ""
        self.fields["safety_notes"].help_text = ""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("value") and not data.get("channel_type"):
            self.add_error("channel_type", _("Choose the kind of channel."))
        if data.get("channel_type") and not data.get("value"):
            self.add_error("value", _("Give the number, address or details of this channel."))
        return data

    def is_filled(self) -> bool:
        return bool(self.cleaned_data.get("channel_type") and self.cleaned_data.get("value"))


ChannelFormSet = forms.formset_factory(OptionalChannelForm, extra=3, max_num=10, absolute_max=10)


def channel_inputs(formset: Any) -> list[ChannelInput]:
    return [form.channel() for form in formset.forms if form.is_filled()]


class ConsentForm(forms.Form):
    scope = forms.ChoiceField(label=_("What they agree to"), choices=CONSENT_SCOPES.choices)
    detail = forms.CharField(
        label=_("Named recipients"),
        max_length=1000,
        required=False,
        help_text=_(
            "Which missions, mechanism, organisation or fund, where the consent names one."
        ),
    )
    given_by = forms.ChoiceField(
        label=_("Given by"), choices=ConsentGiver.choices, initial=ConsentGiver.PERSON
    )
    given_by_name = forms.CharField(
        label=_("Name of the representative or family member"), max_length=200, required=False
    )
    channel = forms.ChoiceField(label=_("How it was given"), choices=CHANNEL_TYPES.choices)
    given_on = forms.DateField(label=_("Given on"), widget=DateInput, initial=timezone.localdate)
    expires_on = forms.DateField(
        label=_("Expires on"),
        widget=DateInput,
        required=False,
        help_text=_("Leave empty if it does not expire. Haven warns 30 days before."),
    )


class WithdrawConsentForm(forms.Form):
    reason = forms.ChoiceField(label=_("Why"), choices=WithdrawalReason.choices)
    note = text_field(
        _("Circumstances"),
        rows=3,
        max_length=2000,
        help_text=_("Kept encrypted with the record. The audit log keeps only the reason above."),
    )


class AffiliationForm(forms.Form):
    organisation = forms.TypedChoiceField(label=_("Organisation"), coerce=int)
    role = forms.CharField(label=_("Role"), max_length=200, required=False)
    started_on = forms.DateField(label=_("From"), widget=DateInput, required=False)
    ended_on = forms.DateField(label=_("Until"), widget=DateInput, required=False)

    def __init__(self, *args: Any, organisations: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].choices = organisations  # type: ignore[attr-defined]


class EndAffiliationForm(forms.Form):
    ended_on = forms.DateField(label=_("Ended on"), widget=DateInput, initial=timezone.localdate)


class RelationForm(forms.Form):
    kind = forms.ChoiceField(label=_("Relation"), choices=RelationKind.choices)
    find = forms.CharField(
        label=_("A defender in the registry"),
        max_length=200,
        required=False,
        help_text=_("Their exact name, phone number or e-mail address. Leave empty otherwise."),
    )
    name = forms.CharField(
        label=_("Or their name"),
        max_length=200,
        required=False,
        help_text=_("For a relative or person who is not in the registry."),
    )
    details = text_field(_("Details"), rows=3, max_length=2000)


class MergeChooserForm(forms.Form):
    find = forms.CharField(
        label=_("The duplicate record"),
        max_length=200,
        help_text=_("Its exact name, phone number or e-mail address."),
    )


class RegistryFilterForm(forms.Form):
    """The filters above a list; every field optional, unknown values ignored."""

    q = forms.CharField(
        label=_("Exact name, phone number or e-mail address"), max_length=200, required=False
    )
    work_focus = forms.ChoiceField(
        label=_("Work focus"), choices=BLANK + WORK_FOCUS.choices, required=False
    )
    region = forms.ChoiceField(label=_("Region"), required=False)
    risk_level = forms.ChoiceField(
        label=_("Current risk"), choices=BLANK + RiskLevel.choices, required=False
    )
    visibility = forms.ChoiceField(
        label=_("Visibility"), choices=BLANK + Visibility.choices, required=False
    )
    organisation = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, regions: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = BLANK + [  # type: ignore[attr-defined]
            (region, region) for region in regions
        ]


class ImportForm(forms.Form):
    CHECK = "check"
    IMPORT_ALL = "all"
    IMPORT_VALID = "valid"

    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("UTF-8, commas between columns, the column names on the first line."),
    )
    kind = forms.ChoiceField(
        label=_("The file holds"),
        choices=[("defenders", _("Defenders")), ("organisations", _("Organisations"))],
    )
    action = forms.ChoiceField(
        label=_("What to do"),
        choices=[
            (CHECK, _("Check the file, write nothing")),
            (IMPORT_ALL, _("Import, if every line is valid")),
            (IMPORT_VALID, _("Import the valid lines, skip the others")),
        ],
        initial=CHECK,
        widget=forms.RadioSelect,
    )
