"""Ways to reach a defender. ``lookup`` says which blind index makes a channel searchable
(a phone number or an e-mail address); free-text channels are not searchable."""

from django.utils.translation import gettext_lazy as _

from haven.core.vocab import Term, Vocabulary

CHANNEL_TYPES = Vocabulary(
    "channel_types",
    _("contact channel"),
    [
        Term("signal", _("Signal"), {"lookup": "phone", "accepts": "phone_or_username"}),
        Term("whatsapp", _("WhatsApp"), {"lookup": "phone", "accepts": "phone"}),
        Term("phone", _("Telephone"), {"lookup": "phone", "accepts": "phone"}),
        Term("email", _("E-mail"), {"lookup": "email", "accepts": "email"}),
        Term("intermediary", _("Through an intermediary"), {"accepts": "text"}),
        Term("in_person", _("In person"), {"accepts": "text"}),
    ],
)
