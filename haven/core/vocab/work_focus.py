"""The rights a defender or organisation works on (DOMAIN.md, "Work focus of defenders")."""

from django.utils.translation import gettext_lazy as _

from haven.core.vocab import Term, Vocabulary

WORK_FOCUS = Vocabulary(
    "work_focus",
    _("work focus"),
    [
        Term("civil_political", _("Civil and political rights")),
        Term("land", _("Land and territory")),
        Term("environment", _("Environment")),
        Term("indigenous", _("Indigenous peoples' rights")),
        Term("labour", _("Labour rights and trade unions")),
        Term("women", _("Women's rights")),
        Term("lgbtqi", _("LGBTQI+ rights")),
        Term("disability", _("Disability rights")),
        Term("children", _("Children's rights")),
        Term("minorities", _("Minority rights")),
        Term("religion", _("Freedom of religion or belief")),
        Term("migration", _("Refugees, displaced people and migrants")),
        Term("governance", _("Anti-corruption and governance")),
        Term("media", _("Journalism and media freedom")),
        Term("justice", _("Lawyers and access to justice")),
        Term("business", _("Business and human rights")),
        Term("escr", _("Health, economic, social and cultural rights")),
        Term("elections", _("Democracy and elections")),
        Term("peace", _("Peacebuilding and conflict documentation")),
        Term("digital", _("Digital rights")),
        Term("academic", _("Students and academic freedom")),
        Term("culture", _("Artists and cultural rights")),
    ],
)
