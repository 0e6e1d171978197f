"""Uploads never touch the disk in the clear, and each is capped in size.

Django spools large uploads to a temporary file; a CSV of defenders or a photo sent by a
defender would then be plaintext on disk (SECURITY.md). This handler encrypts every upload as
it arrives into a ``Spool`` (a temporary file under a key held only in memory), so memory
stays bounded whatever the size, and stops reading beyond ``HAVEN_UPLOAD_MAX_BYTES`` per file,
marking the request so the view can say the file was too large instead of "no file".

It also keeps at most ``HAVEN_ATTACHMENTS_MAX`` files per request and skips the rest, marking
the request (``upload_too_many``): the framework's own file-count limit would answer a bare
400 page and lose everything the person typed; Haven's answer is the form shown again.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile, StopUpload
from django.http import HttpRequest

from haven.crypto.spool import Spool

TOO_LARGE = "haven_upload_too_large"
TOO_MANY = "haven_upload_too_many"
_COUNT = "haven_upload_count"


def upload_too_large(request: HttpRequest) -> bool:
    """Whether this request's upload was cut off at the size cap."""
    return bool(getattr(request, TOO_LARGE, False))


def upload_too_many(request: HttpRequest) -> bool:
    """Whether this request carried more files than ``HAVEN_ATTACHMENTS_MAX`` (the extra ones
    were skipped unread)."""
    return bool(getattr(request, TOO_MANY, False))


class SpooledUpload(UploadedFile):
    """An uploaded file whose content is read back, decrypted, from its spool."""

    def __init__(self, spool: Spool, *, name: str, content_type: str, charset: Any) -> None:
        super().__init__(
            file=None, name=name, content_type=content_type, size=spool.size, charset=charset
        )
        self.spool = spool

    def chunks(self, chunk_size: int | None = None) -> Iterator[bytes]:
        yield from self.spool.chunks()

    def read(self, size: int = -1) -> bytes:
        """The whole content (for small files such as CSV imports)."""
        return b"".join(self.spool.chunks())

    def open(self, *args: Any, **kwargs: Any) -> SpooledUpload:
        return self

    def close(self) -> None:
        self.spool.close()

    def multiple_chunks(self, chunk_size: int | None = None) -> bool:
        return True


class EncryptedSpoolUploadHandler(FileUploadHandler):
    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        if self.request is not None:
            count = getattr(self.request, _COUNT, 0) + 1
            setattr(self.request, _COUNT, count)
            if count > settings.HAVEN_ATTACHMENTS_MAX:
                setattr(self.request, TOO_MANY, True)
                raise SkipFile
        self.spool = Spool()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        if start + len(raw_data) > settings.HAVEN_UPLOAD_MAX_BYTES:
            self.spool.close()
            if self.request is not None:
                setattr(self.request, TOO_LARGE, True)
            raise StopUpload(connection_reset=False)
        self.spool.write(raw_data)

    def file_complete(self, file_size: int) -> SpooledUpload:
        self.spool.finish()
        # The spool's file has no name on disk (unlinked at once) and goes with the upload.
        return SpooledUpload(
            self.spool,
            name=self.file_name or "",
            content_type=self.content_type or "",
            charset=self.charset,
        )
