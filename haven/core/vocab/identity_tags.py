"""Optional identity characteristics (DOMAIN.md safety rule 4): collected only when the work
needs them, stored encrypted, and shown only to members allowed to see them."""

from django.utils.translation import gettext_lazy as _

from haven.core.vocab import Term, Vocabulary

IDENTITY_TAGS = Vocabulary(
    "identity_tags",
    _("identity tag"),
    [
        Term("woman", _("Woman")),
        Term("lgbtqi", _("LGBTQI+ person")),
        Term("indigenous", _("Indigenous person")),
        Term("ethnic_minority", _("Member of an ethnic or linguistic minority")),
        Term("religious_minority", _("Member of a religious minority")),
        Term("disability", _("Person with a disability")),
        Term("youth", _("Young person (under 30)")),
        Term("older", _("Older person")),
        Term("displaced", _("Refugee, displaced person or migrant")),
        Term("rural", _("Lives in a rural or remote area")),
    ],
)
