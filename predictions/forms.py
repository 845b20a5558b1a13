"""The correction form of the result page: every button of it posts one of these fields."""

from __future__ import annotations

from typing import TypedDict

from django import forms

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
