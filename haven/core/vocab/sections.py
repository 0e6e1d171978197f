"""Mission sections that may be brought into a case (DOMAIN.md, "Who uses it"): a case flagged
for a section reaches the members who work in it, restricted or not."""

from django.utils.translation import gettext_lazy as _

from haven.core.vocab import Term, Vocabulary

SECTIONS = Vocabulary(
    "sections",
    _("section"),
    [
        Term("business", _("Economic section (business-linked)")),
        Term("labour", _("Labour section")),
        Term("consular", _("Consular section (visas, relocation)")),
    ],
)
