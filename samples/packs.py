"""Packs: a user's named sets of sounds (at most PACK_MAX_ITEMS), their names unique per user in
any case, each sound with the song it was saved from when there was one. Their ZIPs are in
`exports`."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from predictions.models import Prediction

from .models import Pack, PackItem, Sound

PACK_MAX_ITEMS = 100


class PackFull(Exception):
    pass


class PackNameTaken(ValueError):
    """Another of the user's packs has this name (in any case). str() is the sentence to show."""

    def __init__(self, name: str) -> None:
        super().__init__(f"You already have a pack called “{name}”; choose another name.")


def pack_name_taken(*, owner: User, name: str, exclude: Pack | None = None) -> bool:
    others = Pack.objects.filter(owner=owner, name__iexact=name.strip()[:100])
    return others.exclude(pk=exclude.pk).exists() if exclude is not None and exclude.pk else others.exists()


def pack_create(*, owner: User, name: str, notes: str = "") -> Pack:
    name = name.strip()[:100]
    if pack_name_taken(owner=owner, name=name):
        raise PackNameTaken(name)
    try:
        with transaction.atomic():
            return Pack.objects.create(owner=owner, name=name, notes=notes)
    except IntegrityError as exc:  # created by a concurrent request since the check
        raise PackNameTaken(name) from exc


def pack_update(*, pack: Pack, name: str, notes: str) -> Pack:
    name = name.strip()[:100]
    if pack_name_taken(owner=pack.owner, name=name, exclude=pack):
        raise PackNameTaken(name)
    pack.name, pack.notes = name, notes
    try:
        with transaction.atomic():
            pack.save(update_fields=["name", "notes", "updated_at"])
    except IntegrityError as exc:
        raise PackNameTaken(name) from exc
    return pack


def pack_delete(*, pack: Pack) -> None:
    for export in pack.exports.exclude(file=""):
        export.file.delete(save=False)
    pack.delete()


def pack_get_or_create_by_name(*, owner: User, name: str) -> Pack:
    """The user's pack with this name (any case), or a new one: how "save to pack" picks its pack."""
    existing = Pack.objects.filter(owner=owner, name__iexact=name.strip()).first()
    if existing is not None:
        return existing
    try:
        return pack_create(owner=owner, name=name)
    except PackNameTaken:  # a concurrent "save" created it a moment ago
        return Pack.objects.get(owner=owner, name__iexact=name.strip()[:100])


class SongNotOwned(ValueError):
    """The song a sound was saved from must be one of the pack owner's own predictions."""


@transaction.atomic
def pack_add_sound(*, pack: Pack, sound: Sound, song: Prediction | None = None) -> bool:
    """Add the sound, recording the song it was saved from (its conformed WAV follows that song);
    False when it was already there. Saving it again from a song fills in a song not known yet."""
    if song is not None and song.owner_id != pack.owner_id:
        raise SongNotOwned("The song must be one of the pack owner's.")
    if pack.items.count() >= PACK_MAX_ITEMS:
        raise PackFull(f"A pack holds at most {PACK_MAX_ITEMS} sounds.")
    try:
        with transaction.atomic():
            PackItem.objects.create(pack=pack, sound=sound, song=song)
    except IntegrityError:  # already there: a song not known yet is filled in, else the first save decides
        if song is not None:
            PackItem.objects.filter(pack=pack, sound=sound, song__isnull=True).update(song=song)
        return False
    Pack.objects.filter(pk=pack.pk).update(updated_at=timezone.now())
    return True


def pack_remove_sound(*, pack: Pack, sound: Sound) -> bool:
    deleted, _ = PackItem.objects.filter(pack=pack, sound=sound).delete()
    if deleted:
        Pack.objects.filter(pk=pack.pk).update(updated_at=timezone.now())
    return bool(deleted)
