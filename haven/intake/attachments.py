"""Files sent with a request: the type decided from the content, metadata removed, sealed.

Allowed: JPEG, PNG, WebP (re-encoded from their pixels alone, so EXIF, XMP, IPTC, ICC and GPS
are gone), PDF (document information, XMP, embedded files, JavaScript and automatic actions
removed with pikepdf), plain UTF-8 text, and common audio and video (kept as sent). Anything
else is refused with a message. The original file name is never kept.

A hostile or broken file may make a decoder raise anything from its own error classes to
``struct.error``, ``EOFError`` or ``MemoryError``. Whatever a cleaning library raises while it
reads or rewrites a file becomes ``Refused`` with a plain message (``READ_FAILURES``): a file
is either cleaned or refused, never a server error.
"""

from __future__ import annotations

import io

import pikepdf
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image, ImageOps

# A decoded image may not exceed this many pixels (a "pixel flood" is refused, not decoded).
MAX_PIXELS = 50_000_000

KIND_LABELS = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "pdf": "application/pdf",
    "text": "text/plain; charset=utf-8",
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "wav": "audio/wav",
    "mp4": "video/mp4",
    "webm": "video/webm",
}
EXTENSIONS = {
    "jpeg": "jpg",
    "png": "png",
    "webp": "webp",
    "pdf": "pdf",
    "text": "txt",
    "mp3": "mp3",
    "ogg": "ogg",
    "wav": "wav",
    "mp4": "mp4",
    "webm": "webm",
}
SANITISED = {"jpeg", "png", "webp", "pdf"}
# ISO media "brands" of ordinary audio and video; other brands (HEIC, AVIF photos) are refused.
VIDEO_BRANDS = {
    b"isom",
    b"iso2",
    b"iso4",
    b"iso5",
    b"iso6",
    b"mp41",
    b"mp42",
    b"avc1",
    b"M4A ",
    b"M4V ",
    b"M4B ",
    b"dash",
    b"3gp4",
    b"3gp5",
    b"3gp6",
    b"3g2a",
    b"qt  ",
}


class Refused(Exception):
    """The file cannot be accepted; the message says why."""


# Every error a cleaning library can raise on a file it cannot read. ``Exception`` is meant:
# Pillow and pikepdf document only part of what their decoders raise (Pillow's plugins raise
# ``SyntaxError``, ``struct.error``, ``EOFError``, ``IndexError``; pikepdf's ``PasswordError``
# is not a ``PdfError``), and any of them must become a refusal. ``Refused`` is re-raised as is.
READ_FAILURES: tuple[type[BaseException], ...] = (Exception,)


def detect(head: bytes) -> str:
    """The kind of a file from its first bytes; ``Refused`` if it is not an allowed kind."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    if head.startswith(b"OggS"):
        return "ogg"
    if head[4:8] == b"ftyp":
        if head[8:12] in VIDEO_BRANDS:
            return "mp4"
        # HEIC/AVIF photos share the container and carry EXIF and GPS: refuse, ask for JPEG.
        raise Refused(
            _("This kind of photo (HEIC or AVIF) cannot be accepted. Send it as JPEG or PNG.")
        )
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"
    if _is_text(head):
        return "text"
    raise Refused(
        _(
            "This kind of file cannot be accepted. Send photos (JPEG, PNG, WebP), PDF "
            "documents, plain text, or audio and video recordings."
        )
    )


def _is_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    sample = head[:4096]
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(sample) - 4:  # not just a character cut at the sample's end
            return False
        text = sample[: error.start].decode("utf-8")
    lowered = text.lstrip().lower()
    # Markup would be rendered by something one day: refuse it rather than call it text.
    return not lowered.startswith(("<", "<?xml", "<!doctype", "<svg", "<html"))


def _image(data: bytes, kind: str) -> bytes:
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as opened:
            if opened.width * opened.height > MAX_PIXELS:
                raise Refused(_("This picture is too large in pixels to be accepted."))
            opened.load()
            upright = ImageOps.exif_transpose(opened) or opened
            keeps_alpha = kind != "jpeg" and upright.mode in {"RGBA", "LA", "P"}
            mode = "RGBA" if keeps_alpha else "RGB"
            pixels = upright.convert(mode)
            # A new image from the pixels alone: no EXIF, XMP, IPTC, ICC or text chunk follows.
            clean = Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())
        out = io.BytesIO()
        clean.save(out, format={"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}[kind], quality=90)
    except Refused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Refused(_("This picture is too large in pixels to be accepted.")) from None
    except READ_FAILURES:
        raise Refused(_("This picture is damaged or incomplete and cannot be read.")) from None
    return out.getvalue()


PDF_PROTECTED = gettext_lazy(
    "This PDF is protected by a password and cannot be cleaned. Remove the password (print it "
    "to a new PDF, for example) and send it again."
)


def _pdf(data: bytes) -> bytes:
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            if pdf.is_encrypted:
                # Opened without a password (an owner password only): saved as it is, it would
                # keep its encryption and whatever the cleaning could not see inside it.
                raise Refused(PDF_PROTECTED)
            if "/Info" in pdf.trailer:
                del pdf.trailer["/Info"]
            root = pdf.Root
            for key in ("/Metadata", "/Names", "/OpenAction", "/AA", "/AcroForm", "/PieceInfo"):
                if key in root:
                    del root[key]
            for page in pdf.pages:
                for key in ("/AA", "/Annots", "/Metadata", "/PieceInfo"):
                    if key in page.obj:
                        del page.obj[key]
            pdf.remove_unreferenced_resources()
            out = io.BytesIO()
            pdf.save(out, fix_metadata_version=False, deterministic_id=True)
    except Refused:
        raise
    except pikepdf.PasswordError:
        raise Refused(PDF_PROTECTED) from None
    except READ_FAILURES:
        raise Refused(_("This PDF is damaged or incomplete and cannot be read.")) from None
    return out.getvalue()


def sanitise(kind: str, data: bytes) -> bytes:
    """Images re-encoded from their pixels, PDFs stripped; other kinds returned as they are."""
    if kind in {"jpeg", "png", "webp"}:
        return _image(data, kind)
    if kind == "pdf":
        return _pdf(data)
    return data
