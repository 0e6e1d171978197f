"""The fair-trial checklist of an observer's report (DOMAIN.md, "Fair-trial checklist").

Items follow the structure of the Lawyers Committee for Human Rights' *What is a Fair Trial?*
(2000), chapter 13 of OHCHR's *Manual on Human Rights Monitoring* ("Trial monitoring") and
ODIHR's *Trial Monitoring: A Reference Manual for Practitioners* (2012): before the trial,
at the trial, after it. The wording is ours. ``phase`` groups the items on the form.
"""

from django.utils.translation import gettext_lazy as _

from haven.core.vocab import Term, Vocabulary

PRE_TRIAL, TRIAL, AFTER = "pre_trial", "trial", "after"

FAIR_TRIAL = Vocabulary(
    "fair_trial",
    _("fair-trial item"),
    [
        Term("no_arbitrary_arrest", _("No arbitrary arrest or detention"), {"phase": PRE_TRIAL}),
        Term("told_reasons", _("Told promptly why they were arrested"), {"phase": PRE_TRIAL}),
        Term("lawyer_access", _("A lawyer from the start"), {"phase": PRE_TRIAL}),
        Term("prompt_judge", _("Brought promptly before a judge"), {"phase": PRE_TRIAL}),
        Term(
            "detention_exception",
            _("Detention before trial was the exception, not the rule"),
            {"phase": PRE_TRIAL},
        ),
        Term("no_torture", _("No torture or ill-treatment"), {"phase": PRE_TRIAL}),
        Term("not_incommunicado", _("Not held incommunicado"), {"phase": PRE_TRIAL}),
        Term(
            "time_to_prepare",
            _("Enough time and means to prepare the defence"),
            {"phase": PRE_TRIAL},
        ),
        Term("equality_of_arms", _("Equality of arms with the prosecution"), {"phase": TRIAL}),
        Term(
            "public_hearing",
            _("A public hearing, or a recorded reason for closing it"),
            {"phase": TRIAL},
        ),
        Term(
            "independent_tribunal",
            _("An independent and impartial tribunal"),
            {"phase": TRIAL},
        ),
        Term("presumed_innocent", _("Presumed innocent"), {"phase": TRIAL}),
        Term("notice_of_charges", _("Told the charges in detail"), {"phase": TRIAL}),
        Term("no_undue_delay", _("Tried without undue delay"), {"phase": TRIAL}),
        Term("witnesses", _("Could examine and call witnesses"), {"phase": TRIAL}),
        Term("interpreter", _("A free interpreter where needed"), {"phase": TRIAL}),
        Term("no_coerced_confession", _("No coerced confession used"), {"phase": TRIAL}),
        Term("no_retroactive_law", _("No retroactive criminal law"), {"phase": TRIAL}),
        Term(
            "presence_and_counsel",
            _("Present, and defended by counsel of their choice"),
            {"phase": TRIAL},
        ),
        Term("no_secret_evidence", _("No secret evidence"), {"phase": TRIAL}),
        Term("appeal", _("A right of appeal to a higher court"), {"phase": AFTER}),
        Term("compensation", _("Compensation for a miscarriage of justice"), {"phase": AFTER}),
        Term("no_double_jeopardy", _("Not tried twice for the same offence"), {"phase": AFTER}),
    ],
)
