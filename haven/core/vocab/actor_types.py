"""What kind of actor a defender is, for reach statistics (who is the mission reaching?)."""

from django.utils.translation import gettext_lazy as _

from haven.core.vocab import Term, Vocabulary

ACTOR_TYPES = Vocabulary(
    "actor_types",
    _("actor type"),
    [
        Term("activist", _("Activist or campaigner")),
        Term("community_leader", _("Community or traditional leader")),
        Term("lawyer", _("Lawyer or legal aid worker")),
        Term("journalist", _("Journalist, blogger or media worker")),
        Term("cso_staff", _("Staff or volunteer of a civil society organisation")),
        Term("trade_unionist", _("Trade unionist")),
        Term("student_academic", _("Student or academic")),
        Term("artist", _("Artist or cultural worker")),
        Term("religious_leader", _("Religious leader")),
        Term("health_worker", _("Health worker")),
        Term("whistleblower", _("Whistleblower")),
        Term("victim_relative", _("Relative of a victim")),
        Term("political_actor", _("Peaceful political actor")),
        Term("other", _("Other")),
    ],
)
