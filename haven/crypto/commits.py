"""Writes that span the key store and the data: the key store always commits first.

A data subject's rows live in the ``default`` database and its key in the key store (``keys``,
``haven.crypto.router``); no transaction spans the two. ``keys_first()`` is the one way to write
to both: a transaction on each, the key store's committed before the data's. Invariant: a
crash between the two commits can leave a key that no row uses (found and removed later by
``haven.crypto.orphans``), never a row whose new key was lost. A deletion ordered the same way
(shredding) can leave rows whose key is gone: unreadable, which is what shredding wants.

If the data then fails to commit, the keys made inside the block are deleted again, best
effort; a key that cannot be deleted stays an orphan for the periodic check.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError, router, transaction
from django.db.models import Model

from haven.crypto.models import DataKey, SubmissionKey

logger = logging.getLogger(__name__)

# The exit status of a process stopped at a test crash point (tests tell it from a failure).
CRASH_EXIT_STATUS = 86
# Named points where ``HAVEN_TEST_CRASH_POINT`` stops the process (never in production).
KEYS_COMMITTED = "keys-committed"


@dataclass
class _Block:
    """The keys made inside the outermost ``keys_first()`` block, per model."""

    made: dict[type[Model], list[object]] = field(default_factory=dict)


_current: ContextVar[_Block | None] = ContextVar("haven_keys_first", default=None)


def crash_point(name: str) -> None:
    """Stop the process at once, without clean-up, if the test settings name this point.

    ``HAVEN_TEST_CRASH_POINT`` is refused in production by ``settings.py``; a test sets it in
    a subprocess to prove what a crash at this very point leaves behind.
    """
    if name == settings.HAVEN_TEST_CRASH_POINT:
        os._exit(CRASH_EXIT_STATUS)


def note_new_key(model: type[DataKey] | type[SubmissionKey], key_id: object) -> None:
    """Called by the functions that create keys: remembered so a failed block removes them."""
    block = _current.get()
    if block is not None:
        block.made.setdefault(model, []).append(key_id)


@contextmanager
def keys_first() -> Iterator[None]:
    """Run the block in a transaction on each database; commit the key store's, then the data's.

    Create keys (``new_data_key``, ``new_submission_key``) and the rows that use them inside
    the block. An exception inside it rolls both back. Blocks nest: an inner one joins the
    outer, whose key-store commit still comes first. A key-store transaction opened around
    the block by a caller is refused (``RuntimeError``), since it would commit last.
    """
    keys_alias = router.db_for_write(DataKey)
    if _current.get() is not None:
        # Savepoints on both, so a failed inner block leaves neither its rows nor its keys.
        with transaction.atomic(), transaction.atomic(using=keys_alias):
            yield
        return
    block = _Block()
    token = _current.set(block)
    keys_committed = False
    try:
        with transaction.atomic():
            with transaction.atomic(using=keys_alias, durable=True):
                yield
            keys_committed = True
            crash_point(KEYS_COMMITTED)
    except BaseException:
        if keys_committed:
            _remove_best_effort(block, keys_alias)
        raise
    finally:
        _current.reset(token)


def _remove_best_effort(block: _Block, alias: str) -> None:
    """The data did not commit: delete the keys made for it; any left are orphans."""
    try:
        with transaction.atomic(using=alias):
            for model, ids in block.made.items():
                model._base_manager.using(alias).filter(pk__in=ids).delete()
    except DatabaseError:
        logger.warning(
            "keys made for a write that failed could not be removed; the orphan check"
            " removes them once their grace period has passed"
        )
