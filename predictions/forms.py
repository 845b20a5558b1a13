"""The forms of the prediction pages: the New prediction page's search, pick and upload, and the
result page's correction form."""

from __future__ import annotations

from typing import Any, TypedDict

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


# The correction form of the result page: every button of it posts one of these fields.

RESETTABLE = [("tempo", "tempo"), ("key", "key"), ("genre", "genre")]


class Correction(TypedDict):
    """The keyword arguments of corrections.prediction_correct that the form fills."""

    tempo_bpm: float | None
    key: str | None
    genre: str | None
    reset: tuple[str, ...]


class CorrectionForm(forms.Form):
    tempo = forms.FloatField(
        required=False, error_messages={"invalid": "Type the tempo as a number of BPM, e.g. 96."}
    )
    key = forms.CharField(required=False, max_length=20)
    genre = forms.CharField(required=False, max_length=32)
    reset = forms.ChoiceField(required=False, choices=RESETTABLE)

    def correction(self) -> Correction:
        """Keyword arguments for corrections.prediction_correct (validation of the values is its job)."""
        data = self.cleaned_data
        if data["reset"]:
            # A "Back to …" button undoes one correction. Whatever else its form posts (the genre
            # select still holds the user's choice) is not a second instruction.
            return {"tempo_bpm": None, "key": None, "genre": None, "reset": (data["reset"],)}
        return {
            "tempo_bpm": data["tempo"],
            "key": data["key"] or None,
            "genre": data["genre"] or None,
            "reset": (data["reset"],) if data["reset"] else (),
        }

    def first_error(self) -> str:
        # ErrorList yields each message as a (possibly lazy) string: str() renders it.
        return next(
            (str(e) for errors in self.errors.values() for e in errors), "That correction is not valid."
        )
