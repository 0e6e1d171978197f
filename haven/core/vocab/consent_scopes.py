"""What a defender may agree to the mission doing with their information (DOMAIN.md).

``visible``: using the scope can be seen from outside (a statement, photos), so withdrawing
it stops pending visible actions. ``names``: the person is named to a third party.
``detail``: the consent is only meaningful with a named recipient (which missions, which fund).
"""

from django.utils.translation import gettext_lazy as _

from haven.core.vocab import Term, Vocabulary

CONSENT_SCOPES = Vocabulary(
    "consent_scopes",
    _("consent scope"),
    [
        Term("keep_contact", _("Keep their contact details")),
        Term(
            "raise_named",
            _("Raise privately with the host government, naming them"),
            {"names": True},
        ),
        Term("raise_unnamed", _("Raise privately with the host government, without naming them")),
        Term(
            "public_statement",
            _("Make a public statement naming them"),
            {"visible": True, "names": True},
        ),
        Term(
            "share_missions",
            _("Share with named like-minded missions"),
            {"names": True, "detail": True},
        ),
        Term("share_mechanisms", _("Share with UN or other mechanisms"), {"names": True}),
        Term(
            "refer_named",
            _("Refer to a named organisation or fund"),
            {"names": True, "detail": True},
        ),
        Term("deidentified_reporting", _("Include, without identifying them, in reporting")),
        Term("visibility_events", _("Photos or visibility at events"), {"visible": True}),
    ],
)
