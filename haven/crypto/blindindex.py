"""Blind indexes: a keyed hash of a normalised value, for exact lookups and duplicate detection.

``blind_index(value, kind)`` is BLAKE2b-128 keyed with the blind-index key (a key of its own,
never a KEK), personalised ``haven.blindidx``, over ``kind + b"\\0" + normalised value``, as 32
hex characters. Normalisation, by kind:

* ``name`` (any free text): Unicode NFKC, case-folded, runs of white space made one space,
  trimmed;
* ``phone``: the decimal digits only, in any script (Arabic-Indic ``٠٧١٢`` is ``0712``), and
  of those the last nine: the national number without the country code or trunk prefix, so
  ``+254 712 345 678`` and ``0712 345678`` are one number. Shorter numbers are kept whole;
* ``email``: NFKC, trimmed, lower-cased.

An empty normalised value indexes as ``""`` (so empty fields never look like duplicates).

Invariants: the index reveals equality of normalised values and nothing else; a different kind
or key gives unrelated indexes. Never blind-index low-cardinality fields (gender, nationality,
risk): equality there is the value (SECURITY.md invariant 3).
"""

from __future__ import annotations

import hashlib
import unicodedata
from typing import Any

from django.core import checks
from django.core.exceptions import FieldDoesNotExist
from django.db import models

from haven.crypto.keys import get_provider
from haven.crypto.values import Sealed

KINDS = ("name", "phone", "email")
DIGEST_BYTES = 16
INDEX_LENGTH = DIGEST_BYTES * 2
# National significant numbers are at most nine or ten digits in most numbering plans; the
# last nine tell numbers apart within a mission's registry whatever prefix was typed.
PHONE_DIGITS = 9
_PERSON = b"haven.blindidx"


def _nfkc_casefold(text: str) -> str:
    # Case folding can undo NFKC (and the reverse); repeat until both hold.
    for _round in range(4):
        folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
        if folded == text:
            break
        text = folded
    return text


def normalise(value: str, kind: str) -> str:
    """The form of ``value`` that is hashed: equal for values a person would call equal."""
    if kind == "phone":
        digits = (unicodedata.decimal(char, None) for char in unicodedata.normalize("NFKC", value))
        return "".join(str(digit) for digit in digits if digit is not None)[-PHONE_DIGITS:]
    if kind == "email":
        return unicodedata.normalize("NFKC", value).strip().lower()
    if kind == "name":
        return " ".join(_nfkc_casefold(value).split())
    raise ValueError(f"Unknown blind index kind {kind!r}; use one of {', '.join(KINDS)}.")


def blind_index(value: str, kind: str) -> str:
    """The blind index of ``value`` as ``kind``: 32 hex characters, or ``""`` if empty."""
    normalised = normalise(value, kind)
    if not normalised:
        return ""
    digest = hashlib.blake2b(
        kind.encode("ascii") + b"\x00" + normalised.encode("utf-8", "surrogatepass"),
        digest_size=DIGEST_BYTES,
        key=get_provider().blind_index_key(),
        person=_PERSON,
    )
    return digest.hexdigest()


class BlindIndexField(models.CharField):  # type: ignore[type-arg]
    """An indexed column kept equal to ``blind_index(<source field>, kind)`` on every save.

    ``source`` names an encrypted field of the same model. Look rows up with
    ``Model.objects.filter(<this field>=blind_index(value, kind))``.
    """

    def __init__(self, *args: Any, source: str, kind: str, **kwargs: Any) -> None:
        if kind not in KINDS:
            raise ValueError(f"Unknown blind index kind {kind!r}; use one of {', '.join(KINDS)}.")
        self.blind_index_source = source
        self.blind_index_kind = kind
        kwargs.setdefault("max_length", INDEX_LENGTH)
        kwargs.setdefault("db_index", True)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.blind_index_source
        kwargs["kind"] = self.blind_index_kind
        return name, path, args, kwargs

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        source = self.model._meta.get_field(self.blind_index_source)
        assert isinstance(source, models.Field)
        loaded = model_instance.__dict__.get(source.attname)
        if isinstance(loaded, Sealed) or source.attname not in model_instance.__dict__:
            return getattr(model_instance, self.attname)  # source not opened: unchanged
        value = getattr(model_instance, source.attname)
        index = "" if value is None else blind_index(str(value), self.blind_index_kind)
        setattr(model_instance, self.attname, index)
        return index

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        from haven.crypto.fields import EncryptedTextField

        errors = super().check(**kwargs)
        try:
            source: Any = self.model._meta.get_field(self.blind_index_source)
        except FieldDoesNotExist:
            source = None
        if not isinstance(source, EncryptedTextField):
            errors.append(
                checks.Error(
                    f"{self.model._meta.label}.{self.name}: source "
                    f"{self.blind_index_source!r} must name an EncryptedTextField of the model.",
                    obj=self,
                    id="haven_crypto.E004",
                )
            )
        return errors
