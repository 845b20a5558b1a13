from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from .uploads import ACCEPT_ATTR, ACCEPTED, too_large_message, upload_limit_label, validate_upload


class SearchForm(forms.Form):
    q = forms.CharField(label="Artist or song", max_length=100, strip=True)
    provider = forms.CharField(required=False, widget=forms.HiddenInput)


class PickForm(forms.Form):
    provider = forms.CharField(max_length=20)
    track_id = forms.CharField(max_length=64)


class UploadForm(forms.Form):
    file = forms.FileField(label="Audio file", allow_empty_file=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = f"{ACCEPTED}; up to {upload_limit_label()}."
        attrs = self.fields["file"].widget.attrs
        attrs["accept"] = ACCEPT_ATTR
        # For static/js/upload-size.js, which refuses an oversized file before it is sent.
        attrs["data-max-bytes"] = str(settings.UPLOAD_MAX_BYTES)
        attrs["data-too-large"] = too_large_message(0).split(";", 1)[1].strip()

    @classmethod
    def refused(cls, message: str) -> UploadForm:
        """A bound form that shows `message` on the file field: for a body refused unread."""
        form = cls(data={}, files={})
        form.errors["file"] = form.error_class([message], renderer=form.renderer)
        return form

    def clean_file(self) -> UploadedFile:
        upload = self.cleaned_data["file"]
        self.detected_format = validate_upload(upload)
        return upload
