"""The mission's toolbox: what it can do for a defender (DOMAIN.md, "Mission actions").

``consent``: the consent scope the action needs before it starts (none for actions that
neither show nor name the person). ``visible``: the action can be seen from outside, so it
also needs a recorded reprisal check. ``meeting``: a meeting, which carries a next-contact
date like a case does.
"""

from django.utils.translation import gettext_lazy as _

from haven.core.vocab import Term, Vocabulary

MISSION_ACTIONS = Vocabulary(
    "mission_actions",
    _("mission action"),
    [
        Term(
            "demarche_named",
            _("Private diplomacy (démarche), naming them"),
            {"consent": "raise_named"},
        ),
        Term(
            "demarche_unnamed",
            _("Private diplomacy (démarche), without naming them"),
            {"consent": "raise_unnamed"},
        ),
        Term(
            "public_statement",
            _("Public statement or social media post"),
            {"consent": "public_statement", "visible": True},
        ),
        Term(
            "meeting_mission",
            _("Meeting at the mission"),
            {"consent": "visibility_events", "visible": True, "meeting": True},
        ),
        Term(
            "meeting_office",
            _("Meeting at their office"),
            {"consent": "visibility_events", "visible": True, "meeting": True},
        ),
        Term("site_visit", _("Site visit"), {"consent": "visibility_events", "visible": True}),
        Term(
            "accompaniment",
            _("Physical accompaniment"),
            {"consent": "visibility_events", "visible": True},
        ),
        Term(
            "trial_observation",
            _("Trial observation"),
            {"consent": "visibility_events", "visible": True},
        ),
        Term("detention_visit", _("Detention visit"), {"consent": "raise_named"}),
        Term(
            "recognition",
            _("Recognition (award nomination, invitation, event)"),
            {"consent": "visibility_events", "visible": True},
        ),
        Term("company", _("Raising the case with a company"), {"consent": "raise_named"}),
        Term(
            "multilateral",
            _("Multilateral action (UN or regional forum)"),
            {"consent": "share_mechanisms", "visible": True},
        ),
        Term(
            "like_minded",
            _("Coordination with like-minded missions"),
            {"consent": "share_missions"},
        ),
        Term(
            "special_procedures",
            _("Referral to UN Special Procedures"),
            {"consent": "share_mechanisms"},
        ),
        Term("emergency_grant", _("Referral to an emergency grant"), {"consent": "refer_named"}),
        Term("digital_security", _("Digital-security referral"), {"consent": "refer_named"}),
        Term("relocation", _("Relocation referral"), {"consent": "refer_named"}),
        Term(
            "consular",
            _("Visa, consular or refugee referral"),
            {"consent": "refer_named"},
        ),
        Term("psychosocial", _("Psychosocial referral"), {"consent": "refer_named"}),
        Term("capacity_building", _("Capacity building"), {}),
        Term(
            "report_input",
            _("Input to the human rights report"),
            {"consent": "deidentified_reporting"},
        ),
    ],
)
