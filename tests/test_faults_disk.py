"""The media folder full: a request with a file is refused clearly, nothing is half-stored, and
the portal takes requests again as soon as there is space (SECURITY.md, "disk full")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from haven.intake.models import Attachment, Submission
from haven.intake.services import open_receipt
from tests.faults.disk import files_under, fill, small_filesystem
from tests.faults.portal import ANSWERS, clear_refusal, hidden_fields, receipt_in, video


def _send(client: Client, size: int) -> Any:
    url = reverse("intake_portal:request")
    form = hidden_fields(client.get(url).content.decode())
    upload = SimpleUploadedFile("clip.mp4", video(size), content_type="video/mp4")
    return client.post(url, {**form, **ANSWERS, "attachments": [upload]})


def test_a_full_media_folder_refuses_clearly_and_keeps_nothing(
    mission: Any, settings: Any, tmp_path: Path
) -> None:
    with small_filesystem(tmp_path / "media", kilobytes=256) as media:
        settings.HAVEN_MEDIA_DIR = media
        filler = fill(media)
        client = Client()

        response = _send(client, 64 * 1024)
        page = response.content.decode()
        assert clear_refusal(response.status_code, page), page[:2000]
        assert receipt_in(page) is None
        assert not Submission.objects.exists() and not Attachment.objects.exists()
        assert files_under(media, besides=(filler,)) == []

        filler.unlink()  # space comes back
        response = _send(client, 64 * 1024)
        receipt = receipt_in(response.content.decode())
        assert response.status_code == 200 and receipt
        opened = open_receipt(mission=mission, passphrase=receipt)
        assert opened is not None
        stored = Attachment.objects.get(submission=opened.submission)
        assert stored.size == 64 * 1024
        assert len(files_under(media)) == 1


def test_a_disk_that_fills_during_the_file_leaves_no_partial_file(
    mission: Any, settings: Any, tmp_path: Path
) -> None:
    # Room for the start of the file but not its end: the write fails half-way.
    with small_filesystem(tmp_path / "media", kilobytes=128) as media:
        settings.HAVEN_MEDIA_DIR = media
        response = _send(Client(), 512 * 1024)
        assert clear_refusal(response.status_code, response.content.decode())
        assert not Submission.objects.exists()
        assert files_under(media) == []
