"""Each portal request gets a keypair of its own, so that deleting a request is shredding.

The portal creates the keypair, keeps the public key, and stores the private key sealed to the
mission's intake key in the key store (``SubmissionKey``): it needs no KEK. The workspace
opens the private key with the intake private key (under the KEK). ``shred_submission_key``
deletes the row from the key store (overwritten on SQLite, ``secure_delete``), after which no
copy of the request, current or restored from a backup of the data, can be opened.
"""

from __future__ import annotations

import uuid

from django.db import router, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from nacl import bindings

from haven.core.models import Mission
from haven.crypto.cache import cached_or, forget_key
from haven.crypto.commits import note_new_key
from haven.crypto.errors import DecryptionError
from haven.crypto.models import SubmissionKey
from haven.crypto.sealing import intake_public_key, open_sealed, seal

_PURPOSE = "submission"


def _context(key_id: uuid.UUID) -> bytes:
    return b"submission-key" + key_id.bytes


def new_submission_key(mission: Mission) -> SubmissionKey:
    """A new request's keypair: the private half sealed to ``mission``'s intake key.

    Call it inside ``keys_first()`` with the request's rows (``haven.crypto.commits``).
    """
    public_key, private_key = bindings.crypto_box_keypair()
    key_id = uuid.uuid4()
    note_new_key(SubmissionKey, key_id)
    return SubmissionKey.objects.create(
        id=key_id,
        public_key=public_key,
        sealed_private_key=seal(intake_public_key(mission), private_key, context=_context(key_id)),
        created_on=timezone.localdate(),
    )


def submission_keypair(mission: Mission, key_id: uuid.UUID) -> tuple[bytes, bytes]:
    """(public, private) of a request's key; ``DecryptionError`` once it was shredded."""
    try:
        key = SubmissionKey.objects.get(pk=key_id)
    except SubmissionKey.DoesNotExist:
        raise DecryptionError(
            _("The key of this request no longer exists: the request was deleted.")
        ) from None
    private_key = cached_or(
        (_PURPOSE, key_id),
        lambda: open_sealed(
            mission,
            key.sealed_private_key,
            context=_context(key_id),
            what=_("Request key %(id)s") % {"id": key_id},
        ),
    )
    return bytes(key.public_key), private_key


def shred_submission_key(key_id: uuid.UUID) -> None:
    """Destroy a request's key in the key store (inside the caller's transaction, if any)."""
    with transaction.atomic(using=router.db_for_write(SubmissionKey)):
        SubmissionKey.objects.filter(pk=key_id).delete()
    forget_key((_PURPOSE, key_id))
