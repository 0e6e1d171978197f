"""Forms of the sign-in journey and of account administration. Each lists its fields."""

from __future__ import annotations

import zoneinfo
from typing import Any, ClassVar

from django import forms
from django.conf import settings
from django.contrib.auth.forms import PasswordChangeForm
from django.utils.translation import gettext_lazy as _

from haven.accounts.models import Role, TokenScope
from haven.core.models import Mission
from haven.core.vocab.sections import SECTIONS


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=24,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class VerifyForm(forms.Form):
    code = forms.CharField(
        label=_("Code from your authenticator app, or a recovery code"),
        max_length=24,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )


class ReauthForm(forms.Form):
    password = forms.CharField(
        label=_("Password"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )
    code = forms.CharField(
        label=_("Code from your authenticator app, or a recovery code"),
        max_length=24,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )


class HavenPasswordChangeForm(PasswordChangeForm):
    """Django's form, with the 128-character cap on every field and no reuse of the old one."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.max_length = 128  # type: ignore[attr-defined]
            field.widget.attrs["maxlength"] = "128"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        password = cleaned.get("new_password1")
        if password and "new_password1" not in self.errors and self.user.check_password(password):
            self.add_error("new_password1", _("Choose a password different from the current one."))
        return cleaned


class AddMemberForm(forms.Form):
    username = forms.RegexField(
        label=_("Username"),
        max_length=150,
        regex=r"^[\w.@+-]+\Z",
        error_messages={"invalid": _("Use letters, digits and @ . + - _ only.")},
    )
    email = forms.EmailField(label=_("E-mail (optional)"), required=False, max_length=254)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    sees_identity_tags = forms.BooleanField(
        label=_("May see defenders' identity tags"),
        required=False,
        help_text=_("Administrators always see them; officers only when this is ticked."),
    )
    sections = forms.MultipleChoiceField(
        label=_("Sections they work in"),
        choices=SECTIONS.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Cases flagged for a section reach its members, even restricted ones."),
    )


class TokenForm(forms.Form):
    name = forms.CharField(label=_("What is it for?"), max_length=80)
    scope = forms.ChoiceField(
        label=_("Access"), choices=TokenScope.choices, initial=TokenScope.READ
    )
    days = forms.IntegerField(label=_("Valid for (days)"), min_value=1, max_value=365, initial=90)


class MissionSwitchForm(forms.Form):
    mission = forms.IntegerField(min_value=1, max_value=2**53)


class DismissNoticeForm(forms.Form):
    notice = forms.IntegerField(min_value=1, max_value=2**53)


TIMEZONE_CHOICES = [(name, name) for name in sorted(zoneinfo.available_timezones())]


class MissionSettingsForm(forms.ModelForm):
    timezone = forms.ChoiceField(label=_("Time zone"), choices=TIMEZONE_CHOICES)
    quick_exit_url = forms.URLField(
        label=_("Quick-exit address"),
        assume_scheme="https",
        max_length=200,
        help_text=_("A neutral, common site that portal visitors reach with one click."),
    )
    portal_languages = forms.MultipleChoiceField(
        label=_("Languages of the public portal"),
        choices=settings.LANGUAGES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one language for the portal.")},
    )

    class Meta:
        model = Mission
        fields: ClassVar = [
            "name",
            "country",
            "timezone",
            "portal_languages",
            "public_contact",
            "quick_exit_url",
            "portal_receipt_limit",
            "portal_hourly_limit",
            "keep_originals",
            "response_hours_critical",
            "response_hours_high",
            "response_hours_medium",
            "response_hours_low",
            "no_contact_days",
            "capital_region",
            "suppress_below",
        ]
        widgets: ClassVar = {"public_contact": forms.Textarea(attrs={"rows": 5, "maxlength": 2000})}
        help_texts: ClassVar = {
            "public_contact": _(
                "Shown on the public portal: how defenders can reach the mission safely."
            )
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].widget.attrs.update({"maxlength": 2, "autocapitalize": "characters"})

    def clean_country(self) -> str:
        return str(self.cleaned_data["country"]).strip().upper()

    def clean_public_contact(self) -> str:
        text = str(self.cleaned_data["public_contact"]).strip()
        if len(text) > 2000:
            raise forms.ValidationError(_("Keep the contact details under 2,000 characters."))
        return text
