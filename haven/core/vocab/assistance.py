"""Help a defender may ask for (DOMAIN.md, "Emergency assistance types", after
ProtectDefenders.eu's eleven and Lifeline's). ``urgent`` marks help that suggests a critical
request in the triage inbox; the officer confirms the urgency."""

from django.utils.translation import gettext_lazy as _

from haven.core.vocab import Term, Vocabulary

ASSISTANCE = Vocabulary(
    "assistance",
    _("help wanted"),
    [
        Term("physical_security", _("Physical security"), {"urgent": True}),
        Term("digital_security", _("Digital security")),
        Term("communications", _("Safe communications")),
        Term("security_training", _("Security training")),
        Term("secure_transport", _("Safe transport"), {"urgent": True}),
        Term("legal_support", _("Legal support")),
        Term("medical_psychosocial", _("Medical or psychological care")),
        Term("family_support", _("Support for my family")),
        Term("urgent_relocation", _("Urgent relocation"), {"urgent": True}),
        Term("monitoring_advocacy", _("Monitoring, reporting or advocacy")),
        Term("prison_visit", _("A prison visit")),
        Term("trial_monitoring", _("Trial observation")),
        Term("equipment", _("Replacing equipment")),
        Term("other", _("Something else")),
    ],
)
