from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile

from .uploads import ACCEPT_ATTR, ACCEPTED, upload_limit_label, validate_upload


class SearchForm(forms.Form):
    q = forms.CharField(label="Artist", max_length=100, strip=True)
    provider = forms.CharField(required=False, widget=forms.HiddenInput)


class PickForm(forms.Form):
    provider = forms.CharField(max_length=20)
    track_id = forms.CharField(max_length=64)


class UploadForm(forms.Form):
    file = forms.FileField(label="Audio file", allow_empty_file=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = f"{ACCEPTED}; up to {upload_limit_label()}."
        self.fields["file"].widget.attrs["accept"] = ACCEPT_ATTR

    def clean_file(self) -> UploadedFile:
        upload = self.cleaned_data["file"]
        self.detected_format = validate_upload(upload)
        return upload
