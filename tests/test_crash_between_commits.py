"""A process killed between the key store's commit and the data's leaves no row without its key.

Each test runs a real ``manage.py shell`` on the test databases (SQLite files or PostgreSQL)
with ``HAVEN_TEST_CRASH_POINT`` set: the process dies (``os._exit``) right after the key store
committed and before the data did. What it leaves is then looked at, and the orphan check run,
from this process. The last test starts a real ``manage.py serve``, which runs the check first.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections
from django.utils import timezone

from haven.audit.models import AuditEvent
from haven.crypto.commits import CRASH_EXIT_STATUS, KEYS_COMMITTED
from haven.crypto.models import DataKey, SubmissionKey
from haven.crypto.orphans import check_orphans, find_orphans
from haven.intake.models import Submission
from haven.registry.models import Defender
from tests.factories import make_defender

ROOT = Path(__file__).resolve().parent.parent
PAST_GRACE = datetime.timedelta(days=2)


def _url(alias: str) -> str:
    """The database the test runs on, as a ``HAVEN_*_URL`` another process can open."""
    config = connections[alias].settings_dict
    if config["ENGINE"].endswith("sqlite3"):
        return f"sqlite://{config['NAME']}"
    user = quote(config["USER"] or "")
    password = f":{quote(config['PASSWORD'])}" if config["PASSWORD"] else ""
    port = f":{config['PORT']}" if config["PORT"] else ""
    return f"postgresql://{user}{password}@{config['HOST']}{port}/{quote(config['NAME'])}"


def _haven_env(settings: Any, tmp_path: Path) -> dict[str, str]:
    """The environment of a Haven process on this test's databases, keys and files."""
    return {
        "PATH": os.environ["PATH"],
        "HAVEN_DATABASE_URL": _url("default"),
        "HAVEN_KEYSTORE_URL": _url("keys"),
        "HAVEN_VAR_DIR": str(tmp_path / "var"),
        "HAVEN_KEY_DIR": str(settings.HAVEN_KEY_DIR),
        "HAVEN_MEDIA_DIR": str(settings.HAVEN_MEDIA_DIR),
        "HAVEN_AUDIT_HEAD_FILE": str(settings.HAVEN_AUDIT_HEAD_FILE),
        "HAVEN_DESTRUCTION_CERTIFICATE": str(settings.HAVEN_DESTRUCTION_CERTIFICATE),
        "HAVEN_SECRET_KEY": "crash-test-" + "s" * 50,
        "HAVEN_RECEIPT_KDF_OPSLIMIT": "1",
        "HAVEN_RECEIPT_KDF_MEMLIMIT": "8192",
    }


def _crash_in(code: str, settings: Any, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        env={**_haven_env(settings, tmp_path), "HAVEN_TEST_CRASH_POINT": KEYS_COMMITTED},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == CRASH_EXIT_STATUS, result.stderr[-3000:]
    return result


# What each write runs in the doomed process (``mission`` is the test's mission), and which
# kind of key it makes.
WRITES = {
    "portal request": (
        "from haven.intake.services import submit\n"
        "submit(mission=mission, language='en', answers={'kind': 'help', 'help_wanted': []})\n",
        "crypto.SubmissionKey",
    ),
    "new defender": (
        "from haven.registry.services import create_defender\n"
        "create_defender(mission=mission, actor=None, name='Amina Otieno')\n",
        "crypto.DataKey",
    ),
}


@pytest.mark.parametrize("write", sorted(WRITES))
def test_a_write_killed_between_the_commits_leaves_only_an_unused_key(
    transactional_db: Any, mission: Any, settings: Any, tmp_path: Path, write: str
) -> None:
    kept = make_defender(mission, name="Jane Defender")
    code, key_label = WRITES[write]
    _crash_in(
        "from haven.core.models import Mission\n"
        f"mission = Mission.objects.get(pk={mission.pk})\n" + code,
        settings,
        tmp_path,
    )
    # Nothing of the write reached the data; its key reached the key store, unused.
    assert not Submission.objects.exists()
    assert list(Defender.objects.values_list("pk", flat=True)) == [kept.pk]
    report = find_orphans()
    assert report.rows_without_key == {}
    assert report.unused == {"crypto.DataKey": 0, "crypto.SubmissionKey": 0, key_label: 1}
    assert check_orphans(remove=True).removed == {}  # a write might still be under way
    with time_machine.travel(timezone.now() + PAST_GRACE):
        call_command("keys_orphans", "--remove")
    assert list(DataKey.objects.values_list("pk", flat=True)) == [kept.data_key_id]
    assert not SubmissionKey.objects.exists()
    assert AuditEvent.objects.get(action="keys.orphans_removed").fields == [key_label]
    assert Defender.objects.get(pk=kept.pk).name == "Jane Defender"


def test_a_shredding_killed_between_the_commits_leaves_rows_unreadable_and_reported(
    transactional_db: Any, mission: Any, settings: Any, tmp_path: Path
) -> None:
    shredded = make_defender(mission, name="Amina Otieno")
    _crash_in(
        "from haven.crypto.shredding import shred_subject\n"
        "from haven.registry.models import Defender\n"
        f"shred_subject(Defender.objects.get(pk={shredded.pk}), actor=None, reason='asked')\n",
        settings,
        tmp_path,
    )
    # The key went first: the rows the crash left behind cannot be read by anyone.
    assert not DataKey.objects.filter(pk=shredded.data_key_id).exists()
    with time_machine.travel(timezone.now() + PAST_GRACE):
        with pytest.raises(CommandError, match="DATA WITHOUT ITS KEY"):
            call_command("keys_orphans", "--remove")
        report = check_orphans(remove=True)
    assert report.rows_without_key == {"registry.Defender": 1}
    assert Defender.objects.filter(pk=shredded.pk).exists()  # reported, never deleted


def test_serve_removes_old_unused_keys_and_reports_rows_without_key_at_start(
    transactional_db: Any, mission: Any, settings: Any, tmp_path: Path
) -> None:
    lost = make_defender(mission, name="Amina Otieno")
    kept = make_defender(mission, name="Jane Defender")
    DataKey.objects.filter(pk=lost.data_key_id).delete()
    orphan = DataKey.objects.create(kek_version=1, wrapped=b"\x01" + b"\x00" * 72)
    DataKey.objects.filter(pk=orphan.pk).update(created_at=timezone.now() - PAST_GRACE)
    server = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--no-worker"],
        env={
            **_haven_env(settings, tmp_path),
            "HAVEN_PORT": "0",
            "HAVEN_SERVE_STATIC": "0",
            "PYTHONUNBUFFERED": "1",
        },
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        lines = []
        for line in server.stdout:
            lines.append(line)
            if line.startswith("Haven is serving"):
                break
    finally:
        server.terminate()
        _out, errors = server.communicate(timeout=60)
    assert any(line.startswith("Key store: 1 unused keys, 1 removed") for line in lines), lines
    assert "DATA WITHOUT ITS KEY" in errors and "registry.Defender: 1" in errors
    assert list(DataKey.objects.values_list("pk", flat=True)) == [kept.data_key_id]
    assert Defender.objects.filter(pk=lost.pk).exists()
