"""Two-person approved exit exports over HTTP: who may ask, approve and download, once, and
what the downloaded file holds."""

from __future__ import annotations

import datetime
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from haven.accounts.models import User
from haven.audit.models import AuditEvent
from haven.core.models import Mission
from haven.crypto.archives import decrypt_archive
from haven.registry.models import Defender
from haven.reports import approvals
from haven.reports.models import ExportRequest, ExportStatus
from haven.reports.tests.test_exit_roundtrip import _wipe_instance
from tests.factories import make_defender, make_mission, make_user, signed_in_client

CANARY = "Canary qv3zx8"
PASSPHRASE = "tidy otter seventeen lanterns of a quiet harbour"


@pytest.fixture
def mission(db: Any) -> Mission:
    mission = make_mission(name="Embassy of Exitland", slug="exitland")
    make_defender(mission, name=f"{CANARY} defender", notes=f"{CANARY} notes")
    return mission


@pytest.fixture
def admins(mission: Mission) -> tuple[User, User]:
    return make_user(mission, "admin", username="ada"), make_user(mission, "admin", username="bo")


def _client(user: User, *, fresh: bool = True) -> Client:
    return signed_in_client(user, reauthenticated=fresh)


def _ask(user: User) -> ExportRequest:
    response = _client(user).post(
        reverse("reports:export_new"), {"kind": "exit", "reason": "mission_closing"}
    )
    assert response.status_code == 302, response.content
    return ExportRequest.objects.filter(requested_by=user).latest("pk")


def _download(user: User, export: ExportRequest, *, fresh: bool = True) -> Any:
    url = reverse("reports:export_download", kwargs={"export_id": export.pk})
    return _client(user, fresh=fresh).post(url, {"passphrase": PASSPHRASE, "written_down": "on"})


def _body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def test_two_admins_ask_approve_and_download_once(mission: Mission, admins: Any) -> None:
    ada, bo = admins
    export = _ask(ada)
    assert export.status == ExportStatus.PENDING
    # The other admin sees it on the desk and on the page of exports awaiting approval.
    assert "1 export waits" in _client(bo).get(reverse("core:desk")).content.decode()
    assert "asked by ada" in _client(bo).get(reverse("reports:exports")).content.decode()
    approve = reverse("reports:export_approve", kwargs={"export_id": export.pk})
    assert _client(bo).post(approve).status_code == 302

    page = _client(ada).get(reverse("reports:export_download", kwargs={"export_id": export.pk}))
    suggested = page.context["form"].initial["passphrase"]
    assert len(suggested.split()) == 7 and suggested in page.content.decode()
    response = _download(ada, export)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="haven-exit-exitland')
    encrypted = _body(response)
    # Encrypted: no plaintext of the canary, in any common encoding, is in the file.
    for form in (CANARY.encode(), CANARY.encode("utf-16-le"), CANARY.lower().encode()):
        assert form not in encrypted
    plain = io.BytesIO()
    decrypt_archive(io.BytesIO(encrypted), plain, PASSPHRASE)
    with zipfile.ZipFile(plain) as archive:
        defenders = json.loads(archive.read("records/registry.Defender.json"))
        manifest = json.loads(archive.read("manifest.json"))
    assert defenders[0]["name"] == f"{CANARY} defender"
    assert manifest["counts"]["registry.Defender"] == 1

    export.refresh_from_db()
    assert export.status == ExportStatus.DOWNLOADED and export.decided_by == bo
    again = _download(ada, export)
    assert again.status_code == 200 and "already downloaded" in again.content.decode()
    events = AuditEvent.objects.filter(object_type="reports.exportrequest", object_id=export.pk)
    assert {(e.action, e.actor_username, e.reason) for e in events} == {
        ("export.requested", "ada", "exit:mission_closing"),
        ("export.approved", "bo", "exit:mission_closing"),
        ("export.downloaded", "ada", "exit:mission_closing"),
    }


def test_requester_cannot_approve_their_own_request(mission: Mission, admins: Any) -> None:
    ada, _bo = admins
    export = _ask(ada)
    approve = reverse("reports:export_approve", kwargs={"export_id": export.pk})
    response = _client(ada).post(approve)
    assert "another administrator must decide" in response.content.decode()
    export.refresh_from_db()
    assert export.status == ExportStatus.PENDING
    with pytest.raises(approvals.ExportRefused):
        approvals.approve_export(request=export, actor=ada)
    assert _download(ada, export).content.decode().count("not been approved") == 1


def test_officer_and_viewer_can_neither_ask_nor_approve(mission: Mission, admins: Any) -> None:
    export = _ask(admins[0])
    for role in ("officer", "viewer", "auditor"):
        user = make_user(mission, role)
        client = _client(user)
        assert client.post(reverse("reports:export_new"), {"kind": "exit"}).status_code == 403
        approve = reverse("reports:export_approve", kwargs={"export_id": export.pk})
        assert client.post(approve).status_code == 403
        with pytest.raises(approvals.ExportRefused):
            approvals.approve_export(request=export, actor=user)
    export.refresh_from_db()
    assert export.status == ExportStatus.PENDING


def test_single_admin_is_told_a_second_admin_is_needed(mission: Mission) -> None:
    ada = make_user(mission, "admin", username="ada")
    assert "only one administrator" in _client(ada).get(reverse("reports:exports")).content.decode()
    response = _client(ada).post(
        reverse("reports:export_new"), {"kind": "exit", "reason": "mission_closing"}
    )
    assert "needs a second administrator" in response.content.decode()
    assert not ExportRequest.objects.exists()


def test_every_step_needs_a_fresh_reauthentication(mission: Mission, admins: Any) -> None:
    ada, bo = admins
    stale = _client(ada, fresh=False).post(
        reverse("reports:export_new"), {"kind": "exit", "reason": "mission_closing"}
    )
    assert stale.status_code == 302 and stale.url.startswith(reverse("accounts:reauth"))
    assert not ExportRequest.objects.exists()
    export = _ask(ada)
    approve = reverse("reports:export_approve", kwargs={"export_id": export.pk})
    assert _client(bo, fresh=False).post(approve).url.startswith(reverse("accounts:reauth"))
    _client(bo).post(approve)
    response = _download(ada, export, fresh=False)
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:reauth"))
    export.refresh_from_db()
    assert export.status == ExportStatus.APPROVED


def test_refused_and_expired_exports_cannot_be_downloaded(mission: Mission, admins: Any) -> None:
    ada, bo = admins
    refused = _ask(ada)
    _client(bo).post(reverse("reports:export_refuse", kwargs={"export_id": refused.pk}))
    assert "not been approved" in _download(ada, refused).content.decode()

    export = _ask(ada)
    _client(bo).post(reverse("reports:export_approve", kwargs={"export_id": export.pk}))
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=25)):
        assert "expired" in _download(ada, export).content.decode()
    export.refresh_from_db()
    assert export.status == ExportStatus.EXPIRED
    assert AuditEvent.objects.filter(action="export.expired", object_id=export.pk).exists()


def test_only_the_requester_downloads(mission: Mission, admins: Any) -> None:
    ada, bo = admins
    third = make_user(mission, "admin", username="cy")
    export = _ask(ada)
    _client(bo).post(reverse("reports:export_approve", kwargs={"export_id": export.pk}))
    for other in (bo, third):
        assert "Only the administrator who asked" in _download(other, export).content.decode()
    export.refresh_from_db()
    assert export.status == ExportStatus.APPROVED


def test_open_and_import_commands_restore_the_mission(
    mission: Mission, admins: Any, tmp_path: Path
) -> None:
    ada, bo = admins
    export = _ask(ada)
    approvals.approve_export(request=export, actor=bo)
    archive = tmp_path / "exit.hvxa"
    with approvals.download_export(request=export, actor=ada, passphrase=PASSPHRASE) as handle:
        archive.write_bytes(handle.read())
    secret = tmp_path / "passphrase"
    secret.write_text(PASSPHRASE + "\n")

    out = tmp_path / "opened"
    call_command("open_export", str(archive), "--out", str(out), "--passphrase-file", str(secret))
    records = json.loads((out / "records" / "registry.Defender.json").read_text())
    assert records[0]["notes"] == f"{CANARY} notes"

    with pytest.raises(CommandError, match="empty instance"):
        call_command("import_mission", str(archive), "--passphrase-file", str(secret))
    _wipe_instance()
    wrong = tmp_path / "wrong"
    wrong.write_text("a wrong passphrase that is long enough")
    with pytest.raises(CommandError, match="passphrase is wrong"):
        call_command("import_mission", str(archive), "--passphrase-file", str(wrong))
    output = io.StringIO()
    call_command("import_mission", str(archive), "--passphrase-file", str(secret), stdout=output)
    assert "issue_one_time_password ada" in output.getvalue()
    assert Defender.objects.get().notes == f"{CANARY} notes"
    assert not User.objects.get(username="ada").has_usable_password()


def test_canary_values_reach_no_disk_through_export_and_import(
    transactional_db: Any, tmp_path: Path
) -> None:
    """Every encrypted field and a portal request hold canary tokens; the download, the
    wipe and the import leave none of them on disk: not in the databases, the media
    folder, temporary files, or the downloaded file."""
    import tempfile

    from haven.crypto.archives import iter_archive
    from tests.canary import new_token, scan
    from tests.test_canary_scan import PLANTERS, _portal_conversation

    mission = make_mission(name="Embassy of Canaryland", slug="canaryland")
    ada, bo = make_user(mission, "admin", username="ada"), make_user(mission, "admin")
    tokens: list[str] = []

    def token(field: str) -> str:
        tokens.append(new_token(field.replace("-", "")))
        return tokens[-1]

    temp_before = set(Path(tempfile.gettempdir()).iterdir())
    for label in sorted(PLANTERS):
        PLANTERS[label](mission, token)
    _portal_conversation(mission, ada, token)
    export = approvals.request_export(mission=mission, actor=ada, kind="exit", reason="system_move")
    approvals.approve_export(request=export, actor=bo)
    archive = tmp_path / "exit.hvxa"
    with approvals.download_export(request=export, actor=ada, passphrase=PASSPHRASE) as handle:
        archive.write_bytes(handle.read())
    _wipe_instance()
    from haven.reports.exit.reader import restore

    with archive.open("rb") as source:
        plain = io.BytesIO(b"".join(iter_archive(source, PASSPHRASE)))
    restore(zipfile.ZipFile(plain))
    restored = {defender.notes for defender in Defender.objects.all()}
    assert restored & set(tokens), "the import lost the planted values"

    new_temp = [p for p in Path(tempfile.gettempdir()).iterdir() if p not in temp_before]
    from django.conf import settings

    hits = scan(tokens, [settings.HAVEN_MEDIA_DIR, archive, *new_temp])
    assert len(tokens) >= 10
    assert hits == [], hits[:5]


def test_a_short_passphrase_is_refused_and_nothing_is_spent(mission: Mission, admins: Any) -> None:
    ada, bo = admins
    export = _ask(ada)
    approvals.approve_export(request=export, actor=bo)
    url = reverse("reports:export_download", kwargs={"export_id": export.pk})
    spaced = "a" + " " * 30 + "b c d e f g h i"
    response = _client(ada).post(url, {"passphrase": spaced, "written_down": "on"})
    assert response.status_code == 200 and "at least 20 characters" in response.content.decode()
    export.refresh_from_db()
    assert export.status == ExportStatus.APPROVED
