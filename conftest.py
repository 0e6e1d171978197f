"""Shared test set-up: cheap password hashing, a private audit head file, and the roles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests import factories


@pytest.fixture(autouse=True)
def _test_settings(settings: Any, tmp_path: Path) -> None:
    # Full-cost Argon2 would make the suite crawl; it is still Argon2.
    settings.PASSWORD_HASHERS = ["tests.hashers.QuickArgon2PasswordHasher"]
    settings.HAVEN_AUDIT_HEAD_FILE = tmp_path / "audit-head.json"


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
