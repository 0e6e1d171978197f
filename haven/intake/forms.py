"""Forms of the portal and of triage. Each lists its fields and caps their sizes."""

from __future__ import annotations

import functools
from typing import Any

from django import forms
from django.conf import settings
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from haven.core.choices import Urgency
from haven.core.forms import DateInput
from haven.core.vocab.assistance import ASSISTANCE
from haven.core.vocab.consent_scopes import CONSENT_SCOPES
from haven.intake import tokens
from haven.intake.models import OriginalReason, SubmissionKind, SubmissionStatus
from haven.intake.services import MAX_MESSAGE


def _text(label: Any, *, rows: int = 0, required: bool = False, **kwargs: Any) -> Any:
    widget = forms.Textarea(attrs={"rows": rows}) if rows else forms.TextInput()
    return forms.CharField(label=label, required=required, widget=widget, **kwargs)


AT_RISK = [
    ("me", _("Me")),
    ("someone_else", _("Someone else")),
    ("organisation", _("An organisation or a group")),
]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input; each is checked by the intake service, not here."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


# Where a new token goes in a blank form rendered once and kept (``blank_form_html``): each
# view replaces this mark with a token of its own.
_TOKEN_MARK = "haven-form-token-mark"


class FormTokenInput(forms.HiddenInput):
    """A hidden field that renders a new token each time: a form shown again never carries
    the token already spent or refused."""

    def __init__(self, form: str, *, kept: bool = False) -> None:
        super().__init__()
        self.form = form
        self.kept = kept  # rendered once for ``blank_form_html``: the mark, not a token

    def get_context(self, name: str, value: Any, attrs: Any) -> dict[str, Any]:
        token = _TOKEN_MARK if self.kept else tokens.issue(self.form)
        return super().get_context(name, token, attrs)


class PortalForm(forms.Form):
    """A portal form: it carries a signed, single-use token for ``token_form``, checked by the
    view before anything else (intake/tokens.py)."""

    token_form = ""
    form_token = forms.CharField(required=False, max_length=200)

    def __init__(self, *args: Any, kept: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["form_token"].widget = FormTokenInput(self.token_form, kept=kept)

    def posted_token(self) -> str:
        """The token as posted (before validation; it is checked on its own)."""
        value = self.data.get(self.add_prefix("form_token"), "") if self.is_bound else ""
        return value if isinstance(value, str) else ""


class RequestForm(PortalForm):
    """The request, after the UN Special Rapporteur's structure. Only the kind and what
    happened are required: a person in danger should not be stopped by a form."""

    token_form = "request"

    kind = forms.ChoiceField(
        label=_("What do you want to do?"), choices=SubmissionKind.choices, widget=forms.RadioSelect
    )
    at_risk = forms.ChoiceField(
        label=_("Who is at risk?"), choices=AT_RISK, widget=forms.RadioSelect, initial="me"
    )
    name = _text(
        _("Name of the person or organisation at risk"),
        max_length=200,
        help_text=_("You may leave it empty. You can also use a name we will recognise."),
    )
    work = _text(_("Their work for human rights"), rows=3, max_length=5000)
    happened_on = forms.DateField(label=_("When did it happen?"), required=False, widget=DateInput)
    place = _text(_("Where did it happen?"), max_length=500)
    description = _text(_("What happened?"), rows=8, required=True, max_length=20000)
    responsible = _text(_("Who is responsible, if you know?"), rows=2, max_length=2000)
    steps_taken = _text(
        _("What have you already done?"),
        rows=3,
        max_length=5000,
        help_text=_("For example: told the police, a lawyer, another organisation."),
    )
    help_wanted = forms.MultipleChoiceField(
        label=_("What help do you need?"),
        choices=ASSISTANCE.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    contact = _text(
        _("The safest way to reach you"),
        rows=3,
        max_length=2000,
        help_text=_(
            "For example a Signal number and when it is safe to write. You can also leave it "
            "empty and check for replies here with your receipt."
        ),
    )
    consent = forms.MultipleChoiceField(
        label=_("What may the mission do with this information?"),
        choices=CONSENT_SCOPES.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Tick only what you agree to. You can change your mind later."),
    )
    attachments = MultipleFileField(
        label=_("Photos, documents or recordings (optional)"),
        required=False,
        help_text=_(
            "Up to 10 files. Photos are cleaned of the hidden data that can show where and when "
            "they were taken; PDF documents of their author and history. Audio and video are "
            "kept as sent."
        ),
    )
    # Left empty by people; filled by robots that fill every field.
    website = forms.CharField(
        label=_("Leave this empty"),
        required=False,
        max_length=200,
        # Hidden by the stylesheet (display: none hides it from screen readers too).
        widget=forms.TextInput(
            attrs={"class": "honeypot", "tabindex": "-1", "autocomplete": "off"}
        ),
    )

    def answers(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("website", None)
        data.pop("attachments", None)
        data.pop("form_token", None)
        return data


class ReceiptForm(PortalForm):
    token_form = "receipt"
    passphrase = forms.CharField(
        label=_("Your receipt"),
        max_length=300,
        strip=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
        help_text=_("The seven words you were given, in order."),
    )


class PersonMessageForm(ReceiptForm):
    token_form = "message"
    text = _text(_("Add information or a question"), rows=5, required=True, max_length=MAX_MESSAGE)
    attachments = MultipleFileField(
        label=_("Photos, documents or recordings (optional)"), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["passphrase"].widget = forms.HiddenInput()


class DeletionForm(ReceiptForm):
    token_form = "deletion"
    confirm = forms.BooleanField(label=_("Yes, delete everything I sent"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["passphrase"].widget = forms.HiddenInput()


class ReplyForm(forms.Form):
    text = _text(
        _("Reply"),
        rows=6,
        required=True,
        max_length=MAX_MESSAGE,
        help_text=_(
            "Only the person holding the receipt can read it. Say nothing you would not want "
            "seized with their phone."
        ),
    )


class TriageForm(forms.Form):
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices)
    status = forms.ChoiceField(label=_("Status the person sees"), choices=SubmissionStatus.choices)


class LinkForm(forms.Form):
    find = forms.CharField(
        label=_("Defender in the registry"),
        max_length=200,
        help_text=_("Their exact name, phone number or e-mail address."),
    )


class PortalTextForm(forms.Form):
    can_do = _text(
        _("What the mission can do"),
        rows=8,
        required=True,
        max_length=5000,
        help_text=_("For example: raise a case privately with the authorities, observe a trial."),
    )
    cannot_do = _text(
        _("What the mission cannot do"),
        rows=8,
        required=True,
        max_length=5000,
        help_text=_("Say it plainly: for example, it cannot promise protection, visas or money."),
    )


class OriginalForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Why do you need the original?"), choices=OriginalReason.choices
    )


@functools.lru_cache(maxsize=32)
def _blank_html(form_class: type[PortalForm], language: str) -> str:
    return render_to_string("core/includes/form.html", {"form": form_class(kept=True)})


def blank_form_html(form_class: type[PortalForm]) -> SafeString:
    """The blank form, rendered once per language and kept, with a new token each time.

    A blank portal form is the same for every visitor but for its token, and rendering its
    thirty-odd widgets costs more than the rest of the page: a flood of page views should not
    cost the server more than the requests of the people it is for.
    """
    html = _blank_html(form_class, get_language() or settings.LANGUAGE_CODE)
    return mark_safe(html.replace(_TOKEN_MARK, tokens.issue(form_class.token_form)))  # noqa: S308
