"""A throwaway Haven instance for fault tests: its folder, its databases, and the two steps run
in a process of their own against them (so the test's own process keeps its test database).

``python -m tests.faults.instance setup`` migrates both databases and makes what the scenarios
need: a mission (with its intake key), a signed-in officer (session cookies past the second
factor), a read-and-write API token and a case; it prints them as JSON.

``python -m tests.faults.instance verify`` reads, as JSON on stdin, what people were shown as
acknowledged (receipts, workspace notes, API incidents) and prints, as JSON, which of them the
database does not hold. That list must be empty: an acknowledged write is never lost.

The environment names the databases (``HAVEN_DATABASE_URL``/``HAVEN_KEYSTORE_URL``, else SQLite
under ``HAVEN_VAR_DIR``), exactly as the served processes see them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SESSIONS = 8
# The smallest Argon2id cost libsodium allows, as the test suite uses: the code path is the
# same, and the faults, not the hashing, are what is measured.
NOTHING_LOST: dict[str, list[str]] = {"receipts": [], "notes": [], "incidents": [], "cases": []}
QUICK_RECEIPTS = {"HAVEN_RECEIPT_KDF_OPSLIMIT": "1", "HAVEN_RECEIPT_KDF_MEMLIMIT": "8192"}


@dataclass
class Instance:
    """Where an instance lives and how its processes reach its databases."""

    folder: Path
    database_url: str = ""  # PostgreSQL as the served processes reach it (maybe via a proxy)
    keystore_url: str = ""
    direct_urls: tuple[str, str] = ("", "")  # the same databases, not through any proxy
    seeded: dict[str, Any] = field(default_factory=dict)

    def environment(self, *, direct: bool = False) -> dict[str, str]:
        """The environment of a Haven process of this instance."""
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("HAVEN_") and key != "DJANGO_SETTINGS_MODULE"
        }
        env.update(QUICK_RECEIPTS)
        env["HAVEN_VAR_DIR"] = str(self.folder / "var")
        env["HAVEN_LOG_LEVEL"] = "WARNING"
        env["DJANGO_SETTINGS_MODULE"] = "tests.settings"
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
        data, keys = self.direct_urls if direct else (self.database_url, self.keystore_url)
        if data:
            env["HAVEN_DATABASE_URL"] = data
            env["HAVEN_KEYSTORE_URL"] = keys
        return env

    def _run(self, step: str, given: dict[str, Any] | None = None) -> dict[str, Any]:
        done = subprocess.run(
            [sys.executable, "-m", "tests.faults.instance", step],
            input=json.dumps(given or {}).encode(),
            cwd=ROOT,
            env=self.environment(direct=True),
            capture_output=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{step} failed: {done.stderr.decode()[-3000:]}")
        answer: dict[str, Any] = json.loads(done.stdout.decode().strip().splitlines()[-1])
        return answer

    def setup(self) -> dict[str, Any]:
        self.seeded = self._run("setup")
        return self.seeded

    def lost(self, acknowledged: dict[str, list[str]]) -> dict[str, list[str]]:
        """Of what people were shown as saved, what the database does not hold."""
        return self._run("verify", {**acknowledged, "case_id": self.seeded["case_id"]})


def _setup() -> dict[str, Any]:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    for alias in connections:
        call_command("migrate", database=alias, verbosity=0)
    from haven.accounts.services import create_api_token
    from haven.cases.services import open_case
    from tests.factories import make_defender, make_mission, make_user, signed_in_client

    mission = make_mission(name="Embassy of Faultland", slug="faultland")
    # One visitor sends hundreds of requests here: the per-visitor limits are not the subject.
    mission.portal_session_limit = mission.portal_hourly_limit = 10**9
    mission.save()
    officer = make_user(mission, "officer", username="faults-officer")
    defender = make_defender(mission, actor=officer)
    case = open_case(
        mission=mission, actor=officer, title="Faults", urgency="medium", defender=defender
    )
    sessions = []
    for _ in range(SESSIONS):
        client = signed_in_client(officer)
        session = client.session
        session["haven_mission_id"] = mission.pk
        session.save()
        sessions.append(client.cookies[settings.SESSION_COOKIE_NAME].value)
    token = create_api_token(
        user=officer, mission=mission, name="faults", scope="write", days=1
    ).secret
    connections.close_all()
    return {
        "mission": mission.slug,
        "case_id": case.pk,
        "defender_id": defender.pk,
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "sessions": sessions,
        "token": token,
    }


def _verify(given: dict[str, Any]) -> dict[str, list[str]]:
    import django

    django.setup()
    from haven.cases.models import Case, Incident, Note
    from haven.core.models import Mission
    from haven.crypto.cache import key_scope
    from haven.intake.services import open_receipt

    mission = Mission.objects.get(slug="faultland")
    lost: dict[str, list[str]] = {"receipts": [], "notes": [], "incidents": [], "cases": []}
    for receipt in given.get("receipts", []):
        if open_receipt(mission=mission, passphrase=receipt) is None:
            lost["receipts"].append(receipt)
    with key_scope():
        notes = {note.text for note in Note.objects.filter(case_id=given["case_id"])}
        incidents = {each.description for each in Incident.objects.filter(case_id=given["case_id"])}
        cases = {case.title for case in Case.objects.filter(mission=mission)}
    lost["notes"] = [text for text in given.get("notes", []) if text not in notes]
    lost["incidents"] = [text for text in given.get("incidents", []) if text not in incidents]
    lost["cases"] = [title for title in given.get("cases", []) if title not in cases]
    return lost


def main() -> None:
    step = sys.argv[1]
    given = json.loads(sys.stdin.read() or "{}")
    answer = _setup() if step == "setup" else _verify(given)
    print(json.dumps(answer))


if __name__ == "__main__":
    main()
