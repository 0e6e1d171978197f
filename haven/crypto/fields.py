"""``EncryptedTextField`` and ``EncryptedJSONField``: columns the database only sees as ciphertext.

Stored value (a ``text`` column on every database): standard base64 of

    0x01 | data key id (16 bytes) | nonce (24) | XChaCha20-Poly1305(padded plaintext) | tag (16)

The plaintext (UTF-8 text, or compact JSON in UTF-8) is padded to a multiple of 32 bytes
(ISO/IEC 7816-4, libsodium ``sodium_pad``) so short values all look alike. The associated data
is ``b"haven.field.v1\\0" + "<app_label>.<model>" + b"\\0" + field name + b"\\0" + row uid
(16 bytes) + header (the first 17 bytes)``: ciphertext copied to another row, field, model or
data key fails with ``DecryptionError``, whose message names the model, field and row.

Invariants: plaintext never reaches SQL. Values are encrypted in ``pre_save`` (which knows the
row) and decrypted on first attribute access (which knows it too); any path that would bypass
the row (``QuerySet.update``, ``bulk_update``, lookups, ordering, serialisation) raises
``EncryptedFieldError`` naming the field instead.
"""

from __future__ import annotations

import base64
import json
import uuid
from abc import ABCMeta, abstractmethod
from typing import TYPE_CHECKING, Any

from django import forms
from django.core import checks
from django.core.exceptions import ValidationError
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import Col
from django.db.models.query_utils import DeferredAttribute
from django.utils.translation import gettext as _
from nacl import bindings

from haven.crypto import aead
from haven.crypto.datakeys import data_key_of
from haven.crypto.errors import DecryptionError, EncryptedFieldError
from haven.crypto.values import Sealed, redacted

if TYPE_CHECKING:
    from haven.crypto.models import EncryptedModel

FIELD_FORMAT = 1
PAD_BLOCK = 32


def _uid_bytes(row: models.Model) -> bytes:
    value = row.uid  # type: ignore[attr-defined]
    return (value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))).bytes


class EncryptedAttribute(DeferredAttribute):
    """Holds the loaded ciphertext and opens it on first access, with the row in hand."""

    def __get__(self, instance: Any, cls: Any = None) -> Any:
        if instance is None:
            return self
        field: EncryptedField = self.field  # type: ignore[assignment]
        data = instance.__dict__
        if field.attname not in data:
            data[field.attname] = field.load_deferred(instance)
        value = data[field.attname]
        if isinstance(value, Sealed):
            value = field.open(instance, value)
            data[field.attname] = value
        return value

    def __set__(self, instance: Any, value: Any) -> None:
        instance.__dict__[self.field.attname] = value


class EncryptedCol(Col):
    """The column of an encrypted field. Selecting it does not resolve it again; ORDER BY does
    (lookups are refused before), so refusing here refuses ``order_by("field")``.

    ``order_by(F("field"))`` reaches the column without resolving it and is not caught: it
    sorts by ciphertext, which reveals nothing and means nothing. Don't write it.
    """

    def resolve_expression(self, *args: Any, **kwargs: Any) -> Any:
        field: EncryptedField = self.target  # type: ignore[assignment]
        raise EncryptedFieldError(field.misuse_message(_("ordered")))


class EncryptedField(models.Field, metaclass=ABCMeta):  # type: ignore[type-arg]
    """What both encrypted fields share; subclasses only encode and decode plaintext."""

    descriptor_class = EncryptedAttribute
    description = "Encrypted under the row's data key"

    # -- plaintext <-> bytes (subclasses)

    @abstractmethod
    def encode(self, value: Any) -> bytes:
        """The plaintext bytes of a Python value."""

    @abstractmethod
    def decode(self, data: bytes) -> Any:
        """The Python value of plaintext bytes."""

    def none_is_null(self) -> bool:
        """Whether ``None`` is stored as SQL NULL (which shows that the value is empty)."""
        return True

    # -- storage

    def get_internal_type(self) -> str:
        return "TextField"

    def db_type(self, connection: BaseDatabaseWrapper) -> str | None:
        return connection.data_types["TextField"]

    def from_db_value(self, value: Any, expression: Any, connection: BaseDatabaseWrapper) -> Any:
        return None if value is None else Sealed(value)

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        row: EncryptedModel = model_instance  # type: ignore[assignment]
        loaded = row.__dict__.get(self.attname)
        if isinstance(loaded, Sealed):
            key_id = loaded.key_id()
            if key_id == row.data_key_id:
                return loaded  # never opened, so unchanged: keep the stored ciphertext
            if key_id is not None:
                raise EncryptedFieldError(
                    _(
                        "%(model)s.%(field)s was loaded under another data key than the row now "
                        "has. To move a row to another key, read every encrypted field first, "
                        "then change data_key and save()."
                    )
                    % self._names()
                )
        value = getattr(row, self.attname)
        if value is None and self.none_is_null():
            return None
        if row.data_key_id is None:
            raise EncryptedFieldError(
                _(
                    "%(model)s.%(field)s cannot be saved: the row has no data key. Set "
                    "data_key to the subject's key (new_data_key() for a new subject)."
                )
                % self._names()
            )
        return self.seal(row, self.encode(value))

    def get_db_prep_value(
        self, value: Any, connection: BaseDatabaseWrapper, prepared: bool = False
    ) -> Any:
        if value is None:
            return None
        if isinstance(value, Sealed):
            return value.token
        raise EncryptedFieldError(
            _(
                "%(model)s.%(field)s is encrypted under each row's own key, so update() and "
                "bulk_update() cannot write it. Load each row, assign the value and save() it."
            )
            % self._names()
        )

    def value_to_string(self, obj: models.Model) -> str:
        raise EncryptedFieldError(self.misuse_message(_("serialised (dumpdata)")))

    def get_col(self, alias: str, output_field: Any = None) -> Col:
        return EncryptedCol(alias, self, output_field)

    def get_lookup(self, lookup_name: str) -> Any:
        raise EncryptedFieldError(self.misuse_message(_("filtered")))

    def get_transform(self, lookup_name: str) -> Any:
        raise EncryptedFieldError(self.misuse_message(_("filtered")))

    # -- crypto

    def _names(self) -> dict[str, Any]:
        return {"model": self.model._meta.label, "field": self.name}

    def misuse_message(self, how: str) -> str:
        return _(
            "%(model)s.%(field)s is encrypted, so it cannot be %(how)s in the database. Use a "
            "blind index for exact lookups, or decrypt the rows in the user's scope and work "
            "on them in Python."
        ) % {**self._names(), "how": how}

    def _associated_data(self, row: models.Model, header: bytes) -> bytes:
        return (
            b"haven.field.v1\x00"
            + self.model._meta.label_lower.encode("ascii")
            + b"\x00"
            + self.name.encode("ascii")
            + b"\x00"
            + _uid_bytes(row)
            + header
        )

    def seal(self, row: EncryptedModel, plaintext: bytes) -> Sealed:
        key_id, dek = data_key_of(row)
        header = bytes([FIELD_FORMAT]) + key_id.bytes
        body = aead.encrypt(
            dek, bindings.sodium_pad(plaintext, PAD_BLOCK), self._associated_data(row, header)
        )
        return Sealed(base64.b64encode(header + body).decode("ascii"))

    def open(self, row: EncryptedModel, sealed: Sealed) -> Any:
        """Decrypt, or raise ``DecryptionError`` naming the model, field and row."""
        blob = sealed.raw()
        if blob is None or blob[0] != FIELD_FORMAT:
            raise DecryptionError(
                self._failure(row, _("the column does not hold ciphertext in a known format"))
            )
        header = blob[: Sealed.HEADER_BYTES]
        if uuid.UUID(bytes=header[1:]) != row.data_key_id:
            raise DecryptionError(
                self._failure(
                    row, _("it was encrypted under another data key (copied from another row?)")
                )
            )
        try:
            _key_id, dek = data_key_of(row)
        except DecryptionError as error:
            raise type(error)(self._failure(row, str(error))) from None
        try:
            padded = aead.decrypt(
                dek, blob[Sealed.HEADER_BYTES :], self._associated_data(row, header)
            )
            return redacted(self.decode(bindings.sodium_unpad(padded, PAD_BLOCK)))
        except (aead.AuthenticationFailed, ValueError):
            raise DecryptionError(
                self._failure(
                    row, _("it was altered, truncated, or belongs to another row or field")
                )
            ) from None

    def _failure(self, row: models.Model, reason: str) -> str:
        return _("Cannot decrypt %(model)s.%(field)s of row %(pk)s (uid %(uid)s): %(reason)s.") % {
            **self._names(),
            "pk": row.pk,
            "uid": getattr(row, "uid", "?"),
            "reason": reason,
        }

    def load_deferred(self, row: models.Model) -> Sealed | None:
        """Fetch a deferred column's ciphertext (``only()``/``defer()``)."""
        manager = type(row)._base_manager.db_manager(row._state.db)
        value: Sealed | None = manager.filter(pk=row.pk).values_list(self.attname, flat=True).get()
        return value

    # -- model checks

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        from haven.crypto.models import EncryptedModel

        errors = super().check(**kwargs)
        model = self.model
        if not issubclass(model, EncryptedModel):
            errors.append(
                checks.Error(
                    f"{model._meta.label} has encrypted fields but does not inherit "
                    "haven.crypto.models.EncryptedModel (uid and data_key).",
                    obj=self,
                    id="haven_crypto.E001",
                )
            )
        if self.primary_key or self.unique or getattr(self, "db_index", False):
            errors.append(
                checks.Error(
                    f"{model._meta.label}.{self.name} is encrypted: it cannot be a primary key, "
                    "unique or indexed. Add a BlindIndexField for exact lookups.",
                    obj=self,
                    id="haven_crypto.E002",
                )
            )
        if self._named_in_meta(model):
            errors.append(
                checks.Error(
                    f"{model._meta.label}.{self.name} is encrypted: it cannot appear in "
                    "Meta.ordering, indexes, constraints or unique_together.",
                    obj=self,
                    id="haven_crypto.E003",
                )
            )
        return errors

    def _named_in_meta(self, model: type[models.Model]) -> bool:
        meta = model._meta
        names = {self.name, self.attname}
        used: set[str] = set()
        for item in meta.ordering or ():
            if isinstance(item, str):
                used.add(item.lstrip("-?"))
            else:  # F("name").desc() and the like
                used.add(str(getattr(getattr(item, "expression", item), "name", "")))
        for index in meta.indexes:
            used.update(name.lstrip("-") for name in index.fields or ())
        for constraint in meta.constraints:
            used.update(getattr(constraint, "fields", ()))
        for group in meta.unique_together:
            used.update(group)
        return bool(names & used)


class EncryptedTextField(EncryptedField):
    """Text encrypted under the row's data key. Use ``blank=True`` rather than ``null=True``:
    an empty string is encrypted like any other, a NULL shows that the field is empty."""

    _pyi_private_set_type: str
    _pyi_private_get_type: str

    def encode(self, value: Any) -> bytes:
        return str(value).encode("utf-8", "surrogatepass")

    def decode(self, data: bytes) -> str:
        return data.decode("utf-8", "surrogatepass")

    def to_python(self, value: Any) -> Any:
        if value is None or isinstance(value, str):
            return value
        return str(value)

    def formfield(self, **kwargs: Any) -> Any:
        defaults: dict[str, Any] = {"max_length": self.max_length}
        if not self.choices:
            defaults["widget"] = forms.Textarea
        return super().formfield(**{**defaults, **kwargs})


class EncryptedJSONField(EncryptedField):
    """A JSON value (object, array, string, number, boolean) encrypted under the row's data key."""

    _pyi_private_set_type: Any
    _pyi_private_get_type: Any
    empty_strings_allowed = False

    def get_internal_type(self) -> str:
        return "EncryptedJSONField"

    def none_is_null(self) -> bool:
        # Without null=True, None is the JSON value null, encrypted like any other.
        return self.null

    def encode(self, value: Any) -> bytes:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode(
            "utf-8", "surrogatepass"
        )

    def decode(self, data: bytes) -> Any:
        return json.loads(data.decode("utf-8", "surrogatepass"))

    def validate(self, value: Any, model_instance: models.Model | None) -> None:
        super().validate(value, model_instance)
        try:
            self.encode(value)
        except (TypeError, ValueError):
            raise ValidationError(_("Value must be valid JSON."), code="invalid") from None

    def formfield(self, **kwargs: Any) -> Any:
        return super().formfield(**{"form_class": forms.JSONField, **kwargs})
