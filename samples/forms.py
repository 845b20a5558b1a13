from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from django import forms

from .licences import Licence
from .models import Pack
from .recommend import MAX_BPM, MIN_BPM

if TYPE_CHECKING:
    from accounts.models import User

    from .library import LibraryQuery


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


class LibraryForm(forms.Form):
    """A library view's state, read from the URL (a GET form, so a view can be shared). A value
    that does not validate is dropped, never an error page: the view shows the rest."""

    q = forms.CharField(required=False, max_length=100, label="Search")
    tag = forms.MultipleChoiceField(required=False, label="Instruments")
    kind = forms.ChoiceField(required=False, label="Loops or one-shots")
    bpm_min = forms.IntegerField(required=False, min_value=MIN_BPM, max_value=MAX_BPM, label="BPM from")
    bpm_max = forms.IntegerField(required=False, min_value=MIN_BPM, max_value=MAX_BPM, label="to")
    fits = forms.BooleanField(required=False, label="Fits the song's tempo (or half/double)")
    key = forms.ChoiceField(required=False, label="Key")
    licence = forms.MultipleChoiceField(required=False, label="Licence")
    duration = forms.ChoiceField(required=False, label="Length")
    sort = forms.ChoiceField(required=False, label="Sort by")

    def __init__(self, *args: Any, allowed_licences: Sequence[str] = (), **kwargs: Any) -> None:
        from . import library

        super().__init__(*args, **kwargs)
        fields = self.fields
        cast(forms.MultipleChoiceField, fields["tag"]).choices = [(t, t) for t in library.INSTRUMENTS]
        cast(forms.ChoiceField, fields["kind"]).choices = list(library.KINDS.items())
        cast(forms.ChoiceField, fields["key"]).choices = list(library.KEYS.items())
        cast(forms.ChoiceField, fields["duration"]).choices = [
            (code, label) for code, (label, _, _) in library.DURATIONS.items()
        ]
        cast(forms.ChoiceField, fields["sort"]).choices = list(library.SORTS.items())
        cast(forms.MultipleChoiceField, fields["licence"]).choices = [
            (code, label) for code, label in Licence.selectable() if code in allowed_licences
        ]

    def library_query(self) -> LibraryQuery:
        from .library import SORT_FIT, LibraryQuery

        self.is_valid()
        data = self.cleaned_data
        return LibraryQuery(
            text=data.get("q") or "",
            tags=tuple(data.get("tag") or ()),
            kind=data.get("kind") or "",
            bpm_min=data.get("bpm_min"),
            bpm_max=data.get("bpm_max"),
            fits_tempo=bool(data.get("fits")),
            key=data.get("key") or "",
            licences=tuple(data.get("licence") or ()),
            duration=data.get("duration") or "",
            sort=data.get("sort") or SORT_FIT,
        )
