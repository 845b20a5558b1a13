"""Freesound's sounds as rows: store what a search or a lookup returned (Freesound's answer is the
newest truth), and ask Freesound again for one sound."""

from __future__ import annotations

from django.utils import timezone

from . import freesound
from .budget import FreesoundBudget
from .freesound import FreesoundSound, NotFound
from .indexing import audio_index_kick
from .licences import licence_from_url
from .models import GenreSearch, Sound


def _sound_fields(result: FreesoundSound) -> dict:
    images = result.images
    return {
        "name": result.name[:300],
        "author": result.username[:150],
        "licence_url": result.license,
        "licence": licence_from_url(result.license),
        "duration": result.duration,
        "tags": [t.lower() for t in result.tags][:40],
        "bpm": result.bpm if result.bpm and 0 < result.bpm < 1000 else None,
        "key": (result.tonality or "")[:16],
        "pack_uri": result.pack or "",
        "page_url": result.url or f"https://freesound.org/s/{result.id}/",
        "preview_url": result.preview_hq_mp3,
        "image_url": images.get("waveform_m") or images.get("spectral_m") or "",
    }


def sound_upsert_many(*, results: list[FreesoundSound], genre: GenreSearch | None = None) -> list[Sound]:
    """Store what Freesound returned (it is the newest truth), linked to the genre it was found for."""
    # A cached search may still list a sound Freesound has since removed: keep it removed.
    removed = set(
        Sound.objects.filter(freesound_id__in=[r.id for r in results], removed=True).values_list(
            "freesound_id", flat=True
        )
    )
    previews = dict(
        Sound.objects.filter(freesound_id__in=[r.id for r in results]).values_list(
            "freesound_id", "preview_url"
        )
    )
    sounds, new = [], False
    for result in results:
        if not result.preview_hq_mp3 or result.id in removed:
            continue  # nothing to play or download
        sound, created = Sound.objects.update_or_create(
            freesound_id=result.id, defaults=_sound_fields(result)
        )
        sounds.append(sound)
        moved = not created and previews.get(result.id) != sound.preview_url
        if moved:  # another file behind the sound: listen to it again
            Sound.objects.filter(pk=sound.pk).update(audio_status=Sound.AudioStatus.PENDING, audio_attempts=0)
        new = new or created or moved
    if genre is not None and sounds:
        genre.sounds.add(*sounds)
    if new:
        audio_index_kick()  # new sounds join the audio index as they arrive
    return sounds


def sound_refresh(*, sound: Sound, budget: FreesoundBudget | None = None) -> Sound | None:
    """Ask Freesound for the sound again; None (and marked removed) when it answers 404."""
    try:
        result = freesound.sound_get(sound_id=sound.freesound_id, budget=budget)
    except NotFound:
        # seen_at too (update() skips auto_now): the library's facet cache is keyed by it.
        Sound.objects.filter(pk=sound.pk).update(removed=True, seen_at=timezone.now())
        sound.removed = True
        return None
    for name, value in _sound_fields(result).items():
        setattr(sound, name, value)
    sound.removed = False
    sound.save()
    return sound
