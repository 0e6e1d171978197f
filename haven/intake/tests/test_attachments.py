"""Files sent with a request: metadata gone, hostile files refused, nothing in the clear."""

from __future__ import annotations

import io
import json
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from haven.intake import services
from haven.intake.models import Attachment, Submission
from tests.factories import portal_post, signed_in_client

# exiftool groups and tags that would carry where, when, by whom or with what a file was made.
METADATA_GROUPS = ("GPS", "IFD0", "ExifIFD", "XMP", "IPTC", "ICC", "Photoshop")
METADATA_TAGS = {"PDF:Author", "PDF:Creator", "PDF:Producer", "File:Comment"}
ANSWERS = {"kind": "incident", "at_risk": "me", "description": "They raided the office."}


def _gps_jpeg() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "CanonCanary"  # Make
    exif[0x013B] = "Amina Photographer"  # Artist
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (1.0, 17.0, 29.0)
    gps[3], gps[4] = "E", (36.0, 49.0, 2.0)
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes(), comment=b"secret comment")
    return out.getvalue()


def _authored_pdf() -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.docinfo["/Author"] = "Amina Author"
    pdf.docinfo["/Creator"] = "Office of the Land Network"
    with pdf.open_metadata() as meta:
        meta["dc:creator"] = ["Amina Author"]
    pdf.Root.OpenAction = pikepdf.Dictionary(
        S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert('x')")
    )
    pdf.attachments["hidden.txt"] = pikepdf.AttachedFileSpec(pdf, b"embedded secret")
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def _send(client: Client, *files: tuple[str, bytes]) -> Any:
    uploads = [SimpleUploadedFile(name, data) for name, data in files]
    return portal_post(client, "intake_portal:request", {**ANSWERS, "attachments": uploads})


def _stored(attachment: Attachment, officer: Any) -> bytes:
    return b"".join(services.attachment_download(attachment=attachment, actor=officer))


def test_photo_and_pdf_arrive_without_metadata(mission: Any, officer: Any, tmp_path: Path) -> None:
    response = _send(Client(), ("IMG_0001.jpg", _gps_jpeg()), ("report.pdf", _authored_pdf()))
    assert response.status_code == 200 and "secret receipt" in response.content.decode()
    photo, document = Attachment.objects.order_by("pk")
    assert (photo.kind, document.kind) == ("jpeg", "pdf") and photo.sanitised

    image_bytes = _stored(photo, officer)
    with Image.open(io.BytesIO(image_bytes)) as image:
        assert image.size == (64, 48)
        assert not image.getexif()
        assert not {"exif", "icc_profile", "xmp", "comment", "photoshop"} & set(image.info)
    assert b"Canary" not in image_bytes and b"secret comment" not in image_bytes

    pdf_bytes = _stored(document, officer)
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        assert "/Info" not in pdf.trailer and "/Metadata" not in pdf.Root
        assert "/OpenAction" not in pdf.Root and not pdf.attachments
        assert len(pdf.pages) == 1
    assert b"Amina" not in pdf_bytes and b"embedded secret" not in pdf_bytes

    if shutil.which("exiftool"):
        for name, data in (("photo.jpg", image_bytes), ("doc.pdf", pdf_bytes)):
            path = tmp_path / name
            path.write_bytes(data)
            found = json.loads(
                subprocess.run(
                    ["exiftool", "-j", "-G1", "-a", str(path)],
                    capture_output=True,
                    check=True,
                    text=True,
                ).stdout
            )[0]
            leaked = {
                key: value
                for key, value in found.items()
                if key.startswith(METADATA_GROUPS) or key in METADATA_TAGS
            }
            assert not leaked, (name, leaked)


def test_files_are_sealed_on_disk_under_random_names(mission: Any, settings: Any) -> None:
    text = b"Names of witnesses: Joseph Kamau"
    _send(Client(), ("../../etc/pass\x00wd\u202etxt.jpg", text))
    attachment = Attachment.objects.get()
    path = services.attachment_path(attachment)
    assert path.name == f"{attachment.uid}.hvnf" and oct(path.stat().st_mode)[-3:] == "600"
    assert b"Joseph" not in path.read_bytes()
    assert int(path.stat().st_mtime) % 60 == 0  # the time is coarsened to the day
    assert "etc" not in str(Attachment.objects.values().get())


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("photo.jpg", b"<html><script>alert(1)</script></html>", "cannot be accepted"),
        (
            "logo.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>x</script></svg>',
            "cannot be accepted",
        ),
        ("cut.jpg", _gps_jpeg()[:300], "damaged or incomplete"),
        ("program.exe", b"MZ\x90\x00\x03\x00\x00\x00" + bytes(200), "cannot be accepted"),
        ("broken.pdf", b"%PDF-1.7\n garbage", "damaged or incomplete"),
        ("IMG_1.HEIC", b"\x00\x00\x00\x18ftypheic" + bytes(100), "HEIC or AVIF"),
    ],
)
def test_hostile_files_are_refused_and_nothing_is_stored(
    mission: Any, settings: Any, name: str, data: bytes, message: str
) -> None:
    response = _send(Client(), ("fine.txt", b"a note"), (name, data))
    page = response.content.decode()
    assert response.status_code == 200 and message in page and "File 2:" in page
    assert "They raided the office." in page  # what was typed is kept
    assert not Submission.objects.exists() and not Attachment.objects.exists()
    assert not list(Path(settings.HAVEN_MEDIA_DIR).glob("intake/*"))


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00"))
        + chunk(b"IEND", b"")
    )


def test_a_pixel_flood_is_refused_without_decoding(mission: Any) -> None:
    page = _send(Client(), ("flood.png", _png_header_only(100_000, 100_000))).content.decode()
    assert "too large in pixels" in page
    assert not Submission.objects.exists()


def test_a_30_mb_file_is_refused_at_the_25_mb_limit(mission: Any, settings: Any) -> None:
    assert settings.HAVEN_UPLOAD_MAX_BYTES == 25 * 1024 * 1024
    page = _send(Client(), ("big.txt", b"x" * (30 * 1024 * 1024))).content.decode()
    assert "larger than the limit" in page
    assert not Submission.objects.exists()
    assert not list(Path(settings.HAVEN_MEDIA_DIR).glob("intake/*"))


def test_the_officer_downloads_the_cleaned_copy_as_an_attachment(
    mission: Any, officer: Any
) -> None:
    _send(Client(), ("photo.jpg", _gps_jpeg()))
    attachment = Attachment.objects.get()
    client = signed_in_client(officer)
    url = reverse(
        "intake:attachment",
        kwargs={"submission_id": attachment.submission_id, "attachment_id": attachment.pk},
    )
    page = client.get(
        reverse("intake:submission", kwargs={"submission_id": attachment.submission_id})
    )
    assert url in page.content.decode()
    response = client.get(url)
    assert response["Content-Disposition"].startswith("attachment;")
    assert re.search(r'filename="request-\d+-\d+\.jpg"', response["Content-Disposition"])
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"\xff\xd8\xff")


def test_the_person_adds_a_file_later(mission: Any, officer: Any) -> None:
    client = Client()
    page = _send(client).content.decode()
    passphrase = re.search(r'<p class="secret receipt"[^>]*>([a-z ]+)</p>', page).group(1)  # type: ignore[union-attr]
    portal_post(
        client,
        "intake_portal:receipt_message",
        {
            "passphrase": passphrase,
            "text": "Here is the summons.",
            "attachments": [SimpleUploadedFile("summons.pdf", _authored_pdf())],
        },
    )
    assert Attachment.objects.get().kind == "pdf"


def test_a_full_disk_shows_not_sent_and_leaves_nothing(mission: Any, settings: Any) -> None:
    from unittest import mock

    real_store = services.store_attachment_file
    calls = {"n": 0}

    def store_then_fail(*args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(28, "No space left on device")
        real_store(*args, **kwargs)

    with mock.patch.object(services, "store_attachment_file", side_effect=store_then_fail):
        response = _send(Client(), ("a.txt", b"first file"), ("b.txt", b"second file"))
    assert response.status_code == 503 and "was not sent" in response.content.decode()
    assert not Submission.objects.exists() and not Attachment.objects.exists()
    assert not list(Path(settings.HAVEN_MEDIA_DIR).glob("intake/*"))


def test_a_deleted_request_stays_unreadable_when_an_old_backup_is_restored(
    mission: Any, officer: Any
) -> None:
    from haven.crypto.errors import DecryptionError
    from haven.crypto.models import SubmissionKey

    _send(Client(), ("note.txt", b"The names of our witnesses"))
    submission = Submission.objects.get()
    attachment = submission.attachments.get()
    assert SubmissionKey.objects.filter(pk=submission.key_id).exists()
    # "Backup": the data rows and the sealed file as they are now.
    row = Submission.objects.filter(pk=submission.pk).values().get()
    file_row = Attachment.objects.filter(pk=attachment.pk).values().get()
    sealed_file = services.attachment_path(attachment).read_bytes()

    services.discard(submission=submission, actor=officer)
    assert not SubmissionKey.objects.filter(pk=submission.key_id).exists()

    # "Restore" the data from the backup: without its key nothing opens.
    restored = Submission.objects.create(**row)
    Attachment.objects.create(**file_row)
    services.attachment_path(attachment).write_bytes(sealed_file)
    with pytest.raises(DecryptionError, match="no longer exists"):
        services.open_submission(submission=restored, actor=officer)
    with pytest.raises(DecryptionError):
        b"".join(services.attachment_download(attachment=restored.attachments.get(), actor=officer))


def test_originals_are_kept_only_when_the_mission_asks_and_open_with_a_reason(
    mission: Any, officer: Any
) -> None:
    from haven.audit.models import AuditEvent

    _send(Client(), ("photo.jpg", _gps_jpeg()))
    assert not Attachment.objects.get().has_original
    mission.keep_originals = True
    mission.save()
    _send(Client(), ("photo.jpg", _gps_jpeg()))
    attachment = Attachment.objects.latest("pk")
    assert attachment.has_original
    assert b"Canary" not in services.attachment_path(attachment, original=True).read_bytes()
    client = signed_in_client(officer)
    url = reverse(
        "intake:attachment_original",
        kwargs={"submission_id": attachment.submission_id, "attachment_id": attachment.pk},
    )
    assert "Why do you need the original?" in client.get(url).content.decode()
    response = client.post(url, {"reason": "evidence"})
    original = b"".join(response.streaming_content)
    assert original == _gps_jpeg() or b"CanonCanary" in original
    event = AuditEvent.objects.get(action="intake.original_opened")
    assert event.reason == "evidence"
    assert client.post(url, {"reason": "curiosity"}).status_code == 200  # refused, form again
