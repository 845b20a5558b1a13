from __future__ import annotations

from django import forms

from .models import Pack


class PackForm(forms.ModelForm):
    class Meta:
        model = Pack
        fields = ["name", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the pack a name.")
        return name


class SaveToPackForm(forms.Form):
    sound = forms.IntegerField(widget=forms.HiddenInput)
    pack_name = forms.CharField(
        label="Save to pack", max_length=100, help_text="An existing pack's name, or a new one to create."
    )

    def clean_pack_name(self) -> str:
        name = self.cleaned_data["pack_name"].strip()
        if not name:
            raise forms.ValidationError("Give the pack a name.")
        return name


class PreferenceForm(forms.Form):
    allow_noncommercial = forms.BooleanField(required=False)
