"""What referrals add to a case page: the referrals made, and a way to make one."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from haven.cases.extensions import CasePanel, register_case_panel
from haven.cases.models import Case
from haven.referrals.models import Referral


def _panel(request: HttpRequest, case: Case) -> dict[str, Any]:
    return {"referrals": list(Referral.objects.filter(case=case).select_related("mechanism"))}


def register() -> None:
    register_case_panel(CasePanel("referrals", "referrals/case_panel.html", _panel, 30))
