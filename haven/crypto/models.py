"""Wrapped keys, and the base of every model that holds encrypted fields.

Invariants: no row here holds a key in the clear, only wrapped under a KEK, together with the
KEK version; the intake public key is the one exception and is public by design. Every row
with encrypted fields inherits ``EncryptedModel``: a ``uid`` known before insert (the row
identity the ciphertext is bound to) and ``data_key``, the key of the row's data subject.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from haven.core.models import Mission


class DataKey(models.Model):
    """One data subject's data-encryption key (DEK), wrapped by a KEK.

    Subjects are defenders, organisations, cases and submissions; every row that belongs to a
    subject points here, so destroying this row makes all of them unreadable.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kek_version = models.PositiveIntegerField(db_index=True)
    wrapped = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("data key")
        verbose_name_plural = _("data keys")

    def __str__(self) -> str:
        return f"data key {self.id}"

    def __repr__(self) -> str:
        return f"<DataKey: {self.id} kek_version={self.kek_version}>"


class IntakeKey(models.Model):
    """A mission's intake keypair (X25519). The portal seals to ``public_key``; only the
    workspace, holding the KEK, can unwrap the private key and open what was sealed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    mission = models.ForeignKey(Mission, on_delete=models.PROTECT, related_name="+")
    public_key = models.BinaryField(max_length=32)
    # BLAKE2b-64 of the public key, hex: written into every sealed payload to find the key.
    fingerprint = models.CharField(max_length=16, unique=True)
    kek_version = models.PositiveIntegerField(db_index=True)
    wrapped_private_key = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("intake key")
        verbose_name_plural = _("intake keys")
        get_latest_by = "created_at"

    def __str__(self) -> str:
        return f"intake key {self.fingerprint}"

    def __repr__(self) -> str:
        return f"<IntakeKey: {self.fingerprint} mission={self.mission_id}>"


class SubmissionKey(models.Model):
    """A portal request's own keypair: everything the request holds (what was written, files,
    the mission's copy of messages) is sealed to ``public_key``; the private key is sealed to
    the mission's intake key. It lives in the key store, so deleting this row shreds the
    request: an older copy of the data, restored later, cannot be opened.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    public_key = models.BinaryField(max_length=32)
    sealed_private_key = models.BinaryField()
    created_on = models.DateField()

    class Meta:
        verbose_name = _("request key")
        verbose_name_plural = _("request keys")

    def __str__(self) -> str:
        return f"request key {self.id}"


class EncryptedModel(models.Model):
    """Base of every model with ``EncryptedTextField``/``EncryptedJSONField`` columns.

    Set ``data_key`` to the subject's key before the first save: ``new_data_key()`` for a new
    subject (inside ``keys_first()``, ``haven.crypto.commits``), the subject's own ``data_key``
    for its dependent rows (a case's incidents use the case's key). ``repr()`` shows the class
    and primary key only, never a field value.
    """

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # The key lives in the key store, another database: no constraint can span the two, and
    # deleting a key (shredding) is done by ``shred_subject``, which destroys the key, then
    # removes the rows.
    data_key = models.ForeignKey(
        DataKey,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        editable=False,
    )
    data_key_id: uuid.UUID | None
    # True on the model that owns the key (a defender, an organisation, a case, a
    # submission); its dependent rows share that key and cannot be shredded on their own.
    is_data_subject: bool = False

    class Meta:
        abstract = True

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: pk={self.pk}>"

    def save(self, *args: Any, update_fields: Iterable[str] | None = None, **kwargs: Any) -> None:
        """Keep blind indexes in step: saving a source field saves its index too."""
        if update_fields is not None:
            names = set(update_fields)
            for field in self._meta.concrete_fields:
                source = getattr(field, "blind_index_source", None)
                if source in names:
                    names.add(field.name)
            update_fields = names
        super().save(*args, update_fields=update_fields, **kwargs)

    def move_to_key(self, data_key: DataKey) -> None:
        """Put this row under another subject's key (merging two records into one).

        Opens every encrypted field under the old key first, so the next ``save()`` encrypts
        them all under the new one; saving it is the caller's job, in its transaction.
        """
        from haven.crypto.fields import EncryptedField

        for field in self._meta.concrete_fields:
            if isinstance(field, EncryptedField):
                getattr(self, field.attname)
        self.data_key = data_key


class MissionIdentity(models.Model):
    """A mission's long-term identity towards partner missions: an Ed25519 signing keypair
    and an X25519 encryption keypair. The public halves are public by design (partners
    compare their fingerprint); the private halves are wrapped by the KEK, bound to this row,
    its mission and both public keys (``haven.crypto.identity``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    mission = models.OneToOneField(Mission, on_delete=models.PROTECT, related_name="+")
    signing_public_key = models.BinaryField(max_length=32)
    box_public_key = models.BinaryField(max_length=32)
    # BLAKE2b-128 of both public keys, hex: what people compare and what bundles name.
    fingerprint = models.CharField(max_length=32, unique=True)
    kek_version = models.PositiveIntegerField(db_index=True)
    # The Ed25519 seed and the X25519 secret key, 32 bytes each, wrapped as one secret so
    # that key rotation re-wraps both under one version.
    wrapped_private_keys = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("mission identity key")
        verbose_name_plural = _("mission identity keys")

    def __str__(self) -> str:
        return f"mission identity {self.fingerprint}"

    def __repr__(self) -> str:
        return f"<MissionIdentity: {self.fingerprint} mission={self.mission_id}>"
