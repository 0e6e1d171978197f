"""Forms of coordination: each lists the fields a person may write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from haven.coordination.models import DisclosureReason, Partner
from haven.core.forms import text_field
from haven.monitoring.models import Hearing

BLANK: list[tuple[str, Any]] = [("", "—")]


class PartnerForm(forms.Form):
    card = forms.CharField(
        label=_("The partner's key card"),
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=4000,
        help_text=_(
            "Ask the partner mission for the card on its “Our keys” page and paste all of it."
        ),
    )
    code = text_field(
        _("Short code"),
        required=True,
        max_length=20,
        help_text=_("How consent records name this partner, for example NL-NBO."),
    )
    country = text_field(_("Country it represents (two letters)"), max_length=2)


class SummaryForm(forms.Form):
    reason = forms.ChoiceField(label=_("Why you are sending it"), choices=DisclosureReason.choices)

    def __init__(self, *args: Any, partners: QuerySet[Partner], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["partner"] = forms.ModelChoiceField(
            label=_("Partner mission"),
            queryset=partners,
            help_text=_("Only verified partners are listed."),
        )
        self.order_fields(["partner", "reason"])


OBSERVER_CHOICES = [
    ("", _("Not in the rota")),
    ("sender", _("We observe")),
    ("recipient", _("They observe")),
    ("both", _("Both missions")),
]


class RotaForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Why you are sending it"),
        choices=DisclosureReason.choices,
        initial=DisclosureReason.TRIAL_OBSERVATION,
    )

    def __init__(self, *args: Any, hearings: list[Hearing], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hearings = {f"hearing_{hearing.pk}": hearing for hearing in hearings}
        for name, hearing in self.hearings.items():
            when = timezone.localtime(hearing.starts_at).strftime("%Y-%m-%d %H:%M")
            self.fields[name] = forms.ChoiceField(
                label=f"{when} · {hearing.court} · {hearing.case.reference}",
                choices=OBSERVER_CHOICES,
                required=False,
            )

    def lines(self) -> list[tuple[Hearing, str]]:
        return [
            (hearing, self.cleaned_data[name])
            for name, hearing in self.hearings.items()
            if self.cleaned_data.get(name)
        ]


class ImportForm(forms.Form):
    bundle = forms.FileField(label=_("Bundle file (.haven-bundle)"))


class ConfirmImportForm(forms.Form):
    # The bundle itself, as uploaded (still encrypted to this mission), checked again on
    # confirmation: nothing is kept on the server between preview and import.
    bundle_data = forms.CharField(widget=forms.HiddenInput, max_length=2 * 1024 * 1024)
