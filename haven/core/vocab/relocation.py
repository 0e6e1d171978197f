"""The standard tasks of a temporary relocation (DOMAIN.md, failure 11: relocation must not be
a dead end): before departure, during the stay, at the return and after it.

``anchor`` and ``days`` set the due date: so many days from the departure or the return.
"""

from django.utils.translation import gettext_lazy as _

from haven.core.vocab import Term, Vocabulary

BEFORE, STAY, RETURN, AFTER = "before", "stay", "return", "after"

RELOCATION_TASKS = Vocabulary(
    "relocation_tasks",
    _("relocation task"),
    [
        Term(
            "documents",
            _("Travel documents and visa ready"),
            {"phase": BEFORE, "anchor": "depart", "days": -14},
        ),
        Term(
            "journey_plan",
            _("Security plan for the journey agreed"),
            {"phase": BEFORE, "anchor": "depart", "days": -7},
        ),
        Term(
            "host_confirmed",
            _("Host and accommodation confirmed"),
            {"phase": BEFORE, "anchor": "depart", "days": -7},
        ),
        Term(
            "family_plan",
            _("Arrangements for the family left behind"),
            {"phase": BEFORE, "anchor": "depart", "days": -3},
        ),
        Term(
            "first_week",
            _("Check-in in the first week of the stay"),
            {"phase": STAY, "anchor": "depart", "days": 7},
        ),
        Term(
            "wellbeing",
            _("Rest and psychosocial support offered"),
            {"phase": STAY, "anchor": "depart", "days": 14},
        ),
        Term(
            "return_plan",
            _("Plan for the return made"),
            {"phase": STAY, "anchor": "return", "days": -21},
        ),
        Term(
            "risk_before_return",
            _("Risk assessed again before the return"),
            {"phase": RETURN, "anchor": "return", "days": -7},
        ),
        Term(
            "safe_arrival",
            _("Safe arrival home confirmed"),
            {"phase": RETURN, "anchor": "return", "days": 1},
        ),
        Term(
            "after_two_weeks",
            _("Follow-up two weeks after the return"),
            {"phase": AFTER, "anchor": "return", "days": 14},
        ),
        Term(
            "after_three_months",
            _("Follow-up three months after the return"),
            {"phase": AFTER, "anchor": "return", "days": 90},
        ),
    ],
)
