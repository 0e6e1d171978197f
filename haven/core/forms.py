"""Form pieces every app's forms share."""

from __future__ import annotations

from typing import Any

from django import forms


class DateInput(forms.DateInput):
    """The browser's own date picker; no script needed."""

    input_type = "date"


def text_field(
    label: Any, *, required: bool = False, rows: int = 0, **kwargs: Any
) -> forms.CharField:
    """A text field: one line, or a text area of ``rows`` lines."""
    widget = forms.Textarea(attrs={"rows": rows}) if rows else forms.TextInput()
    return forms.CharField(label=label, required=required, widget=widget, **kwargs)
