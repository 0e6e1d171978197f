"""What coordination adds to a case page: the summaries sent to partners, and a way to send one."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from haven.cases.extensions import CasePanel, register_case_panel
from haven.cases.models import Case
from haven.coordination.models import Disclosure


def _panel(request: HttpRequest, case: Case) -> dict[str, Any]:
    rows = Disclosure.objects.filter(case=case).select_related("partner")
    return {"disclosures": list(rows[:20])}


def register() -> None:
    register_case_panel(CasePanel("coordination", "coordination/case_panel.html", _panel, 40))
