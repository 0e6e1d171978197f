"""Keys that no row uses, and rows whose key is missing, across the key store and the data.

``keys_first()`` commits the key store before the data, so a crash between the two commits
leaves keys that no row uses. ``check_orphans`` finds them at start (``serve``), in the periodic
runner and on demand (``manage.py keys_orphans``), and removes those older than
``HAVEN_ORPHAN_KEY_GRACE``: a write still under way commits its rows right after its keys, long
before that. Removal is shredding (SQLite's overwritten pages, the write-ahead log flushed) and
is audited as a maintenance event.

Rows whose key is missing are the dangerous direction: a shredding interrupted between its two
commits, data restored from a backup older than a shredding, or a key store restored from a
backup older than the data. They are reported loudly, never deleted.

Invariant: a key is deleted only if it is past its grace period and, checked again just before
the deletion, no row of any model refers to it. No data row is ever deleted here.
"""

from __future__ import annotations

import datetime
import heapq
import logging
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.db import router, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from haven.crypto.destruction import read_certificate
from haven.crypto.errors import CryptoError
from haven.crypto.models import DataKey, SubmissionKey
from haven.crypto.shredding import encrypted_models, flush_key_store
from haven.crypto.signals import orphaned_keys_removed

logger = logging.getLogger(__name__)

KeyModel = type[DataKey] | type[SubmissionKey]
_KEY_MODELS: dict[str, KeyModel] = {model._meta.label: model for model in (DataKey, SubmissionKey)}
_CHUNK = 2000


@dataclass(frozen=True)
class KeyReference:
    """A column of the data whose value is the id of a key in the key store."""

    model: type[Model]
    column: str  # the attribute name, e.g. ``data_key_id``
    key_model: KeyModel


_registered: list[KeyReference] = []


def register_key_reference(model: type[Model], column: str, key_model: KeyModel) -> None:
    """Declare a column that refers to a key by id (an app above crypto, in ``ready()``).

    Every ``EncryptedModel``'s ``data_key_id`` is known without this.
    """
    reference = KeyReference(model, column, key_model)
    if reference not in _registered:
        _registered.append(reference)


def key_references() -> list[KeyReference]:
    return [
        *(KeyReference(model, "data_key_id", DataKey) for model in encrypted_models()),
        *_registered,
    ]


@dataclass
class OrphanReport:
    """What one pass found and did; counts and ids only, never a value."""

    destroyed: bool = False
    # Keys no row uses, per key model label: all of them, and those past the grace period.
    unused: dict[str, int] = field(default_factory=dict)
    expired: dict[str, list[uuid.UUID]] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)
    # Rows whose key is not in the key store, per model label, and how many keys that is.
    rows_without_key: dict[str, int] = field(default_factory=dict)
    missing_keys: int = 0

    @property
    def has_rows_without_key(self) -> bool:
        return bool(self.rows_without_key)

    def summary(self) -> str:
        """One line for the log and the console: counts only."""
        if self.destroyed:
            return _("the data was destroyed (emergency destruction); nothing to check")
        unused = sum(self.unused.values())
        removed = sum(self.removed.values())
        line = _("%(unused)d unused keys, %(removed)d removed") % {
            "unused": unused,
            "removed": removed,
        }
        if self.rows_without_key:
            line += "; " + rows_without_key_message(self)
        return line


def rows_without_key_message(report: OrphanReport) -> str:
    counts = sorted(report.rows_without_key.items())
    rows = ", ".join(f"{label}: {count}" for label, count in counts)
    return _(
        "DATA WITHOUT ITS KEY: %(keys)d keys are missing from the key store for rows of the "
        "data (%(rows)s). Those rows cannot be read. Either a shredding was interrupted, the data "
        "was restored from a backup older than a shredding, or the key store was restored from a "
        "backup older than the data: then restore the key store from its latest backup. Nothing "
        "was deleted."
    ) % {"keys": report.missing_keys, "rows": rows}


def check_orphans(*, remove: bool, now: datetime.datetime | None = None) -> OrphanReport:
    """Find unused keys and rows without a key; with ``remove``, remove unused keys past grace.

    Rows without their key are logged as an error every time they are found.
    """
    report = find_orphans(now=now)
    if remove and not report.destroyed:
        report.removed = remove_expired_keys(report)
    if report.has_rows_without_key:
        logger.error("%s", rows_without_key_message(report))
    return report


def find_orphans(*, now: datetime.datetime | None = None) -> OrphanReport:
    """Compare the key store with every column that refers to it; changes nothing."""
    report = OrphanReport()
    if read_certificate() is not None:
        # After emergency destruction every row is without its key, by design.
        report.destroyed = True
        return report
    cutoff = (now or timezone.now()) - settings.HAVEN_ORPHAN_KEY_GRACE
    references = key_references()
    missing: dict[KeyModel, list[uuid.UUID]] = {}
    for label, key_model in _KEY_MODELS.items():
        columns = [ref for ref in references if ref.key_model is key_model]
        unused, missing[key_model] = _compare(_keys(key_model), _referenced(columns))
        report.unused[label] = len(unused)
        report.expired[label] = [key_id for key_id, made in unused if _before(made, cutoff)]
    _count_rows_without_key(report, references, missing)
    return report


def remove_expired_keys(report: OrphanReport) -> dict[str, int]:
    """Shred the unused keys past grace that ``report`` lists, each checked again first."""
    alias = router.db_for_write(DataKey)
    removed: dict[str, int] = {}
    references = key_references()
    for label, ids in report.expired.items():
        key_model = _KEY_MODELS[label]
        columns = [ref for ref in references if ref.key_model is key_model]
        count = 0
        for chunk in _chunks(ids):
            still_unused = set(chunk) - _used_among(columns, chunk)
            if still_unused:
                with transaction.atomic(using=alias):
                    count += key_model._base_manager.filter(pk__in=still_unused).delete()[0]
        if count:
            removed[label] = count
    if removed:
        # At once, or when a caller's enclosing transaction on the key store commits.
        transaction.on_commit(lambda: flush_key_store(alias), using=alias)
        orphaned_keys_removed.send(sender=DataKey, counts=removed)
    return removed


# -- comparing two sorted streams of ids

Stamped = tuple[uuid.UUID, object]  # a key's id and when it was made


def _keys(key_model: KeyModel) -> Iterator[Stamped]:
    made = "created_at" if key_model is DataKey else "created_on"
    rows = key_model._base_manager.values_list("id", made).order_by("id")
    previous: uuid.UUID | None = None
    for key_id, stamp in rows.iterator(_CHUNK):
        _refuse_disorder(previous, key_id)
        previous = key_id
        yield key_id, stamp


def _referenced(columns: list[KeyReference]) -> Iterator[uuid.UUID]:
    streams = [
        _ascending(
            ref.model._base_manager.exclude(**{ref.column: None})
            .values_list(ref.column, flat=True)
            .distinct()
            .order_by(ref.column)
            .iterator(_CHUNK)
        )
        for ref in columns
    ]
    previous = None
    for key_id in heapq.merge(*streams):
        if key_id != previous:
            yield key_id
            previous = key_id


def _ascending(ids: Iterable[uuid.UUID]) -> Iterator[uuid.UUID]:
    previous: uuid.UUID | None = None
    for key_id in ids:
        _refuse_disorder(previous, key_id)
        previous = key_id
        yield key_id


def _refuse_disorder(previous: uuid.UUID | None, current: uuid.UUID) -> None:
    """The comparison walks sorted streams; if a database sorted ids otherwise than Python
    does, a used key could look unused. That must stop the check, not delete a key."""
    if previous is not None and current <= previous:
        raise CryptoError(
            _("The key store and the data list key ids in different orders; nothing removed.")
        )


def _compare(
    keys: Iterator[Stamped], referenced: Iterator[uuid.UUID]
) -> tuple[list[Stamped], list[uuid.UUID]]:
    """(keys no column refers to, with when they were made; ids referred to but absent)."""
    unused: list[Stamped] = []
    missing: list[uuid.UUID] = []
    key = next(keys, None)
    ref = next(referenced, None)
    while key is not None or ref is not None:
        if key is not None and (ref is None or key[0] < ref):
            unused.append(key)
            key = next(keys, None)
        elif ref is not None and (key is None or ref < key[0]):
            missing.append(ref)
            ref = next(referenced, None)
        else:
            key = next(keys, None)
            ref = next(referenced, None)
    return unused, missing


def _before(made: object, cutoff: datetime.datetime) -> bool:
    if isinstance(made, datetime.datetime):
        return made < cutoff
    # Request keys keep only the day they were made (times of visits are metadata): a key of
    # a day before the cutoff's day is older than the cutoff whatever its hour.
    return isinstance(made, datetime.date) and made < cutoff.date()


def _chunks(ids: list[uuid.UUID]) -> Iterator[list[uuid.UUID]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _used_among(columns: list[KeyReference], ids: list[uuid.UUID]) -> set[uuid.UUID]:
    used: set[uuid.UUID] = set()
    for ref in columns:
        used.update(
            ref.model._base_manager.filter(**{f"{ref.column}__in": ids}).values_list(
                ref.column, flat=True
            )
        )
    return used


def _count_rows_without_key(
    report: OrphanReport,
    references: list[KeyReference],
    missing: dict[KeyModel, list[uuid.UUID]],
) -> None:
    """Count the rows under each missing key, asking the key store once more first (a key and
    its rows committed while the streams were read are not missing)."""
    absent: set[uuid.UUID] = set()
    for key_model, ids in missing.items():
        for chunk in _chunks(ids):
            present = set(key_model._base_manager.filter(pk__in=chunk).values_list("id", flat=True))
            gone = [key_id for key_id in chunk if key_id not in present]
            for ref in (r for r in references if r.key_model is key_model):
                rows = ref.model._base_manager.filter(**{f"{ref.column}__in": gone})
                count = rows.count()
                if count:
                    label = ref.model._meta.label
                    report.rows_without_key[label] = report.rows_without_key.get(label, 0) + count
                    absent.update(rows.values_list(ref.column, flat=True).distinct())
    report.missing_keys = len(absent)
