from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms

from .models import Pack

if TYPE_CHECKING:
    from accounts.models import User


class PackForm(forms.ModelForm):
    class Meta:
        model = Pack
        fields = ["name", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, owner: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owner = owner

    def clean_name(self) -> str:
        from .packs import PackNameTaken, pack_name_taken

        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the pack a name.")
        if self.owner is not None and pack_name_taken(owner=self.owner, name=name, exclude=self.instance):
            raise forms.ValidationError(str(PackNameTaken(name)), code="taken")
        return name


class SaveToPackForm(forms.Form):
    sound = forms.IntegerField(widget=forms.HiddenInput)
    # The song (prediction) the sound is saved from, on a page that has one. Text: a malformed id
    # saves the sound without a song instead of refusing it (selectors.song_for_user reads it).
    song = forms.CharField(widget=forms.HiddenInput, required=False, max_length=20)
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
