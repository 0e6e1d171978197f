"""Forms of the referral directory and of referrals."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from haven.core.forms import DateInput, text_field
from haven.core.models import Mission
from haven.core.vocab.assistance import ASSISTANCE
from haven.referrals.models import Mechanism, MechanismKind, ReferralStatus

BLANK: list[tuple[str, Any]] = [("", "—")]


class MechanismForm(forms.Form):
    name = text_field(_("Name"), required=True, max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=MechanismKind.choices)
    support_types = forms.MultipleChoiceField(
        label=_("Support it gives"),
        choices=ASSISTANCE.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    eligibility = text_field(_("Who is eligible"), rows=4, max_length=5000)
    how_to_apply = text_field(_("How to apply"), rows=3, max_length=5000)
    languages = text_field(_("Languages"), max_length=300)
    contact = text_field(_("Contact channel"), max_length=500)
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")
    source = forms.URLField(
        label=_("Checked against (address)"), required=False, assume_scheme="https"
    )
    paused = forms.BooleanField(label=_("Paused: not taking requests"), required=False)


class DirectoryFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=BLANK + MechanismKind.choices, required=False)
    support = forms.ChoiceField(
        label=_("Support"), choices=BLANK + ASSISTANCE.choices, required=False
    )
    active_only = forms.BooleanField(label=_("Only those taking requests"), required=False)


class ReferralForm(forms.Form):
    referred_on = forms.DateField(
        label=_("Referred on"), widget=DateInput, initial=timezone.localdate
    )
    outcome = text_field(_("Notes"), rows=3, max_length=10000)

    def __init__(self, *args: Any, mission: Mission, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["mechanism"] = forms.ModelChoiceField(
            label=_("Mechanism"),
            queryset=Mechanism.objects.filter(mission=mission, paused=False),
        )
        self.order_fields(["mechanism", "referred_on", "outcome"])


class ReferralUpdateForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=ReferralStatus.choices)
    outcome = text_field(_("Outcome"), rows=3, max_length=10000)
