"""Upload handlers whose temporary files are named by the server, never by the client.

Django's TemporaryFileUploadHandler puts the client's extension into the temporary file's name:
a 4-byte UTF-8 extension of 70 characters is over the file system's 255 bytes, and the upload
ended in a 500. The client's name is kept only as the file's display name (catalog turns it into
a title; it never reaches the disk).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, TemporaryFileUploadHandler

FALLBACK_NAME = "upload"


class ServerNamedTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    def new_file(self, *args: Any, **kwargs: Any) -> None:
        FileUploadHandler.new_file(self, *args, **kwargs)
        self.file = TemporaryUploadedFile(
            FALLBACK_NAME, self.content_type, 0, self.charset, self.content_type_extra
        )
        try:
            self.file.name = self.file_name  # Django trims it to 255 characters and refuses `..`
        except SuspiciousFileOperation:
            self.file.name = FALLBACK_NAME
