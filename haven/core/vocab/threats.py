"""What happened to a defender and who did it (DOMAIN.md, threat and violation types and the
incident detail after HURIDOCS' event standard formats).

``THREAT_TYPES`` ``violent``: an attack on the body or liberty, shown first in lists.
"""

from django.utils.translation import gettext_lazy as _

from haven.core.vocab import Term, Vocabulary

THREAT_TYPES = Vocabulary(
    "threat_types",
    _("threat or violation type"),
    [
        Term("killing", _("Killing or attempted killing"), {"violent": True}),
        Term("disappearance", _("Enforced disappearance or abduction"), {"violent": True}),
        Term("torture", _("Torture or ill-treatment"), {"violent": True}),
        Term("sgbv", _("Sexual and gender-based violence"), {"violent": True}),
        Term("physical_attack", _("Physical attack"), {"violent": True}),
        Term("death_threat", _("Death threat")),
        Term("intimidation", _("Other threats and intimidation, including of family")),
        Term("detention", _("Arrest or detention, including incommunicado"), {"violent": True}),
        Term("judicial", _("Judicial harassment and criminalisation")),
        Term("slapp", _("SLAPP or civil suit")),
        Term("surveillance", _("Surveillance, physical or digital")),
        Term("digital_attack", _("Digital attack (hacking, account takeover, spyware)")),
        Term("online_harassment", _("Online harassment and smear campaigns")),
        Term("raid", _("Raid, search, property destruction or equipment theft")),
        Term("administrative", _("Administrative harassment (registration, funding, tax)")),
        Term("movement", _("Travel ban, movement restriction, exile, transnational repression")),
        Term("livelihood", _("Dismissal or attack on livelihood")),
        Term(
            "un_reprisal", _("Reprisal for cooperating with the UN or other international bodies")
        ),
    ],
)

PERPETRATOR_TYPES = Vocabulary(
    "perpetrator_types",
    _("perpetrator type"),
    [
        Term("officials", _("National or local officials")),
        Term("armed_forces", _("Armed forces")),
        Term("police", _("Police")),
        Term("prison", _("Prison officials")),
        Term("intelligence", _("Intelligence services")),
        Term("judiciary", _("Judiciary")),
        Term("paramilitary", _("Paramilitaries")),
        Term("opposition", _("Opposition forces")),
        Term("private_security", _("Private security")),
        Term("mob", _("Mob")),
        Term("powerful_individuals", _("Powerful private individuals")),
        Term("company", _("Companies")),
        Term("landowners", _("Landowners")),
        Term("unknown", _("Unknown")),
    ],
)
