"""The dashboard's filters and the annual report's year."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from haven.core.forms import DateInput
from haven.reports.selectors import Period

LONGEST_PERIOD = datetime.timedelta(days=10 * 366)


class PeriodForm(forms.Form):
    start = forms.DateField(label=_("From"), required=False, widget=DateInput)
    end = forms.DateField(label=_("To"), required=False, widget=DateInput)
    region = forms.ChoiceField(label=_("Region"), required=False)

    def __init__(self, *args: Any, regions: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        region = self.fields["region"]
        assert isinstance(region, forms.ChoiceField)
        region.choices = [("", _("All regions")), *[(r, r) for r in regions]]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        default = Period.last_year()
        start, end = data.get("start") or default.start, data.get("end") or default.end
        if start > end:
            raise forms.ValidationError(_("The start of the period is after its end."))
        if end - start > LONGEST_PERIOD:
            raise forms.ValidationError(_("Choose a period of ten years at most."))
        data["period"] = Period(start, end, data.get("region") or "")
        return data

    def period(self) -> Period:
        """The chosen period, or the last twelve months when the filters are empty or wrong."""
        if self.is_bound and self.is_valid():
            period: Period = self.cleaned_data["period"]
            return period
        return Period.last_year()


class YearForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100, required=False)

    def chosen_year(self) -> int:
        if self.is_bound and self.is_valid() and self.cleaned_data["year"]:
            return int(self.cleaned_data["year"])
        return timezone.localdate().year
