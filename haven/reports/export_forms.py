"""Forms of the two-person export flow; each lists the fields it writes."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from haven.crypto.archives import MIN_PASSPHRASE_CHARS, passphrase_long_enough
from haven.reports.models import ExportKind, ExportReason


class ExportRequestForm(forms.Form):
    kind = forms.ChoiceField(label=_("What to export"), choices=ExportKind.choices)
    # A code, not free text: the reason goes into the audit log, which is not encrypted, and
    # a sentence could name a person.
    reason = forms.ChoiceField(label=_("Why"), choices=ExportReason.choices)


class DecisionForm(forms.Form):
    """A confirmation: no fields, the button says what happens."""


class DownloadForm(forms.Form):
    passphrase = forms.CharField(
        label=_("Passphrase of the file"),
        min_length=MIN_PASSPHRASE_CHARS,
        max_length=200,
        strip=True,
        help_text=_(
            "The file can only be opened with this passphrase. Keep the one suggested, or type "
            "your own of at least 20 characters. Haven does not keep it: write it down now."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    written_down = forms.BooleanField(
        label=_("I have written the passphrase down and will keep it apart from the file."),
    )

    def clean_passphrase(self) -> str:
        passphrase: str = self.cleaned_data["passphrase"]
        if not passphrase_long_enough(passphrase):
            raise forms.ValidationError(
                _("Use at least %(count)d characters, not counting repeated spaces.")
                % {"count": MIN_PASSPHRASE_CHARS}
            )
        return passphrase
