"""Uploads stay in memory, capped, and never touch a temporary file.

Django spools large uploads to a temporary file; a CSV of defenders there would be plaintext
on disk (SECURITY.md: no key or plaintext outside the encrypted stores). This handler keeps
every upload in memory up to ``HAVEN_UPLOAD_MAX_BYTES`` and stops reading beyond it, marking
the request so the view can say the file was too large instead of "no file".
"""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest

TOO_LARGE = "haven_upload_too_large"


def upload_too_large(request: HttpRequest) -> bool:
    """Whether this request's upload was cut off at the size cap."""
    return bool(getattr(request, TOO_LARGE, False))


class MemoryOnlyUploadHandler(FileUploadHandler):
    def handle_raw_input(
        self,
        input_data: Any,
        META: Any,
        content_length: int,
        boundary: Any,
        encoding: str | None = None,
    ) -> None:
        # Raising here would escape Django's parser; the first file refuses instead.
        self.oversized = content_length > settings.HAVEN_UPLOAD_MAX_BYTES

    def _refuse(self) -> None:
        if self.request is not None:
            setattr(self.request, TOO_LARGE, True)
        raise StopUpload(connection_reset=False)

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        if getattr(self, "oversized", False):
            self._refuse()
        self.file = io.BytesIO()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        if start + len(raw_data) > settings.HAVEN_UPLOAD_MAX_BYTES:
            self._refuse()
        self.file.write(raw_data)

    def file_complete(self, file_size: int) -> InMemoryUploadedFile:
        self.file.seek(0)
        return InMemoryUploadedFile(
            file=self.file,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )
