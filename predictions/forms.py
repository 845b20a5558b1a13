"""The correction form of the result page: every button of it posts one of these fields."""

from __future__ import annotations

from django import forms

RESETTABLE = [("tempo", "tempo"), ("key", "key"), ("genre", "genre")]


class CorrectionForm(forms.Form):
    tempo = forms.FloatField(
        required=False, error_messages={"invalid": "Type the tempo as a number of BPM, e.g. 96."}
    )
    key = forms.CharField(required=False, max_length=20)
    genre = forms.CharField(required=False, max_length=32)
    reset = forms.ChoiceField(required=False, choices=RESETTABLE)

    def correction(self) -> dict[str, object]:
        """Keyword arguments for services.prediction_correct (validation of the values is its job)."""
        data = self.cleaned_data
        return {
            "tempo_bpm": data["tempo"],
            "key": data["key"] or None,
            "genre": data["genre"] or None,
            "reset": (data["reset"],) if data["reset"] else (),
        }

    def first_error(self) -> str:
        return next((e for errors in self.errors.values() for e in errors), "That correction is not valid.")
