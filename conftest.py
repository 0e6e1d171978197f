"""Shared test set-up: cheap password hashing, a private audit head file, and the roles."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import factories


def pytest_collection_modifyitems(items: list[Any]) -> None:
    """Every test may use both databases: the data and the key store (``keys``).

    Data rows and their keys always travel together, so a test that touches one touches the
    other; declaring it on each test would only invite "queries to 'keys' not allowed".
    """
    for item in items:
        marker = item.get_closest_marker("django_db")
        kwargs = dict(marker.kwargs) if marker else {}
        if "databases" in kwargs:
            continue
        kwargs["databases"] = "__all__"
        args = marker.args if marker else ()
        item.add_marker(pytest.mark.django_db(*args, **kwargs), append=False)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any) -> None:
    """Let the test runner empty the audit table between transactional tests.

    On PostgreSQL a trigger refuses TRUNCATE on the audit log; the runner's flush uses it.
    Only the TRUNCATE trigger of the throwaway test database is switched off; the test of
    the trigger switches it back on inside its own transaction.
    """
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_truncate"
                )


@pytest.fixture(autouse=True)
def _test_settings(settings: Any, tmp_path: Path) -> None:
    # Full-cost Argon2 would make the suite crawl; it is still Argon2.
    settings.PASSWORD_HASHERS = ["tests.hashers.QuickArgon2PasswordHasher"]
    # Receipts too: the smallest Argon2id cost libsodium allows (the code path is the same).
    settings.HAVEN_RECEIPT_KDF_OPSLIMIT = 1
    settings.HAVEN_RECEIPT_KDF_MEMLIMIT = 8192
    settings.HAVEN_AUDIT_HEAD_FILE = tmp_path / "audit-head.json"
    # Keys made during a test live and die with it, never in the repository's var/keys.
    settings.HAVEN_KEY_DIR = tmp_path / "keys"
    # A destruction certificate in the real var/ must never turn the suite into 410 pages.
    settings.HAVEN_DESTRUCTION_CERTIFICATE = tmp_path / "destruction-certificate.json"
    settings.HAVEN_MEDIA_DIR = tmp_path / "media"


@pytest.fixture(autouse=True)
def _cache_reset() -> None:
    """Each test starts with an empty cache (figures kept by the headquarters dashboard, for
    one), as a freshly started server does."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _language_reset() -> Iterator[None]:
    """A request in another language leaves it active in the thread; the next test starts in
    the default language whatever the last one asked for."""
    yield
    from django.utils import translation

    translation.deactivate()


@pytest.fixture
def mission(db: Any) -> Any:
    return factories.make_mission(name="Embassy of Testland", slug="testland")


@pytest.fixture
def other_mission(db: Any) -> Any:
    return factories.make_mission(name="Embassy elsewhere", slug="elsewhere")


@pytest.fixture
def admin(mission: Any) -> Any:
    return factories.make_user(mission, "admin", username="ada")


@pytest.fixture
def officer(mission: Any) -> Any:
    return factories.make_user(mission, "officer", username="otto")
