"""The sample library (issue 25): the index's sounds searched, filtered and sorted for a song or a
pack. Reads only; a live Freesound top-up for what the index lacks is `freesound_index.library_top_up`.

Everything that filters or counts is done by the database: the filters are one WHERE clause, the
facet counts one aggregate with a FILTER per tag, and the tempo and key parts of the fit are SQL
expressions (see `fit_partial`). Only the audio part of the fit needs the vectors, and it is worked
out for a bounded candidate set: the FIT_CANDIDATES sounds the SQL part ranks best (see `ranked`).

The facet counts of a view read every sound it matches, which for a view with few filters is most
of the index; they are cached per view and index version (`cached_facet_counts`), and their total
is the page count too (`ranked`, `paginate`), so a repeated view counts nothing.

Free text uses PostgreSQL's full-text search (the `simple` configuration over the name and the
tags, prefix matches, backed by a GIN index made by migration 0013) and, on other databases, a
case-insensitive containment test per word. Tags are tested with jsonb containment (`@>`, a GIN
index) on PostgreSQL and with the tag's quoted JSON text elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, overload

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    ExpressionWrapper,
    F,
    FloatField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import Combinable, RawSQL
from django.db.models.functions import Abs, Greatest, Least

from predictions.models import Prediction
from worker.music.theory import Key, fifth_down, fifth_up, parse_key, relative

from .audio_index import vector_from_bytes
from .indexing import process_index
from .licences import Licence
from .models import Sound
from .recommend import Candidate, licence_filter, tempo_windows
from .similarity import (
    KEY_WEIGHT,
    OCTAVE_TEMPO,
    RELATED_KEY,
    TEMPO_FALLOFF,
    TEMPO_WEIGHT,
    UNKNOWN,
    SongVectors,
    SoundVectors,
    rank_by_sound,
    song_vectors,
)

PER_PAGE = 25
FIT_CANDIDATES = 300  # the audio part of the fit is computed for this many sounds (12 pages)
SIMILAR_CANDIDATES = 1000  # the song's nearest sounds in the audio index, for "sounds like the song"
FACETS_CACHE_SECONDS = 600  # a safety net: a change to the index gives a new key at once
DEFAULT_TOLERANCE = 6  # GenreSearch.bpm_tolerance's default
TEXT_MAX_WORDS = 8

# The facets: sound sources a producer looks for, as Freesound's uploaders tag them.
INSTRUMENTS = (
    "drums", "percussion", "kick", "snare", "hihat", "bass", "synth", "pad", "lead", "keys", "piano",
    "guitar", "strings", "brass", "vocals", "fx",
)  # fmt: skip
LOOP_TAG = "loop"

SORT_FIT, SORT_SIMILAR, SORT_TEMPO, SORT_NEWEST = "fit", "similar", "tempo", "newest"
SORTS = {
    SORT_FIT: "Fit (sound, tempo and key)",
    SORT_SIMILAR: "Sounds like the song",
    SORT_TEMPO: "Closest tempo",
    SORT_NEWEST: "Newest on Freesound",
}
KIND_LOOP, KIND_ONE_SHOT = "loop", "one-shot"
KINDS = {"": "Loops and one-shots", KIND_LOOP: "Loops", KIND_ONE_SHOT: "One-shots"}
KEY_ANY, KEY_SAME, KEY_MIXES = "", "same", "mixes"
KEYS = {KEY_ANY: "Any key", KEY_SAME: "Same key", KEY_MIXES: "Mixes (same, relative or a fifth)"}
# Seconds, from (inclusive) to (exclusive); None is open.
DURATIONS: dict[str, tuple[str, float | None, float | None]] = {
    "": ("Any length", None, None),
    "short": ("Under 2 s", None, 2.0),
    "medium": ("2–10 s", 2.0, 10.0),
    "long": ("10–30 s", 10.0, 30.0),
    "longer": ("30 s or more", 30.0, None),
}


@dataclass(frozen=True)
class Reference:
    """What the library ranks against: the song's tempo, key and vectors, each possibly unknown."""

    tempo: float | None = None
    key: str = ""
    vectors: SongVectors | None = None
    tolerance: int = DEFAULT_TOLERANCE
    seed: str = ""

    @property
    def windows(self) -> list[tuple[int, int]]:
        return tempo_windows(self.tempo, self.tolerance)


def reference_for(prediction: Prediction | None) -> Reference:
    """The song's values as the rest of the site uses them (the user's corrections included)."""
    if prediction is None:
        return Reference()
    return Reference(
        tempo=prediction.song_tempo_bpm,
        key=prediction.song_key,
        vectors=song_vectors(prediction.backbone_output),
        seed=f"library:{prediction.pk}",
    )


@dataclass(frozen=True)
class LibraryQuery:
    """One view of the library, as its URL says it (samples.forms.LibraryForm reads it)."""

    text: str = ""
    tags: tuple[str, ...] = ()
    kind: str = ""
    bpm_min: int | None = None
    bpm_max: int | None = None
    fits_tempo: bool = False  # the song's tempo, or half or double it, within the tolerance
    key: str = KEY_ANY
    licences: tuple[str, ...] = ()  # none chosen: every licence the user may see
    duration: str = ""
    sort: str = SORT_FIT


def allowed_licences(*, allow_noncommercial: bool) -> list[str]:
    """CC0 and CC BY for everyone; CC BY-NC only for users who opted in (SamplePreference)."""
    codes = Licence.default_codes()
    return [*codes, Licence.BY_NC.value] if allow_noncommercial else codes


# --- Filters ------------------------------------------------------------------------------------------


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def has_tag(tag: str) -> Q:
    """Sounds tagged `tag` (Freesound's tags are lower-case words): jsonb containment on
    PostgreSQL (the GIN index), the quoted JSON string in the stored text elsewhere."""
    if _postgres():
        return Q(tags__contains=[tag])
    return Q(tags__icontains=f'"{tag}"')


def text_words(text: str) -> list[str]:
    """The searchable words of a free-text query: letters and digits, lower-cased, at most 8."""
    return re.findall(r"[0-9a-z]+", text.lower())[:TEXT_MAX_WORDS]


# The expression migration 0013 indexes (GIN); the filter must spell it the same way to use it.
SEARCH_VECTOR_SQL = 'to_tsvector(\'simple\', "samples_sound"."name" || \' \' || "samples_sound"."tags"::text)'


def text_filter(text: str) -> Q | RawSQL | None:
    """Every word, as a prefix, in the name or the tags ("tech bass" finds "Tech House Bassline")."""
    words = text_words(text)
    if not words:
        return None
    if _postgres():
        tsquery = " & ".join(f"{word}:*" for word in words)
        return RawSQL(
            f"{SEARCH_VECTOR_SQL} @@ to_tsquery('simple', %s)", [tsquery], output_field=BooleanField()
        )
    condition = Q()
    for word in words:
        condition &= Q(name__icontains=word) | Q(tags__icontains=word)
    return condition


def key_spellings(keys: Iterable[Key]) -> list[str]:
    """How Freesound may write these keys ("C# minor", "Db minor"): sharps and flats both."""
    sharps = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
    flats = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")
    names: list[str] = []
    for key in keys:
        for tonic in dict.fromkeys((sharps[key.tonic], flats[key.tonic])):
            names.append(f"{tonic} {key.mode}")
    return names


def mixing_keys(key: Key) -> list[Key]:
    """The keys that mix with `key` (key_relation's same, relative, a fifth up or down)."""
    return [key, relative(key), fifth_up(key), fifth_down(key)]


def sound_filter(*, query: LibraryQuery, reference: Reference, allowed: Sequence[str]) -> QuerySet[Sound]:
    """The sounds this view shows, unordered: every filter is part of one WHERE clause."""
    licences = [code for code in (query.licences or allowed) if code in allowed] or list(allowed)
    # The vectors are read only for the fit's candidates (_by_fit), never for a page's rows.
    sounds = Sound.objects.defer("embedding", "tag_vector").filter(removed=False, licence__in=licences)
    if (text := text_filter(query.text)) is not None:
        sounds = sounds.filter(text)
    for tag in query.tags:
        sounds = sounds.filter(has_tag(tag))
    if query.kind == KIND_LOOP:
        sounds = sounds.filter(has_tag(LOOP_TAG))
    elif query.kind == KIND_ONE_SHOT:
        sounds = sounds.exclude(has_tag(LOOP_TAG))
    sounds = sounds.filter(_bpm_filter(query, reference))
    sounds = sounds.filter(_key_filter(query, reference))
    return sounds.filter(_duration_filter(query.duration))


def _bpm_filter(query: LibraryQuery, reference: Reference) -> Q:
    condition = Q()
    if query.fits_tempo and reference.windows:
        windows = Q()
        for low, high in reference.windows:
            windows |= Q(bpm__gte=low, bpm__lte=high)
        condition &= windows
    if query.bpm_min is not None:
        condition &= Q(bpm__gte=query.bpm_min)
    if query.bpm_max is not None:
        condition &= Q(bpm__lte=query.bpm_max)
    return condition


def _key_filter(query: LibraryQuery, reference: Reference) -> Q:
    song_key = parse_key(reference.key)
    if query.key == KEY_ANY or song_key is None:
        return Q()
    keys = [song_key] if query.key == KEY_SAME else mixing_keys(song_key)
    return Q(key__in=key_spellings(keys))


def _duration_filter(duration: str) -> Q:
    _, low, high = DURATIONS.get(duration, DURATIONS[""])
    condition = Q()
    if low is not None:
        condition &= Q(duration__gte=low)
    if high is not None:
        condition &= Q(duration__lt=high)
    return condition


# --- Sorting ------------------------------------------------------------------------------------------


def tempo_distance(reference: Reference) -> Combinable | None:
    """BPM from the song's tempo, its double or its half, whichever is nearest (NULL: no BPM)."""
    if not reference.tempo:
        return None
    centres = dict.fromkeys((round(reference.tempo), round(reference.tempo * 2), round(reference.tempo / 2)))
    distances = [Abs(F("bpm") - Value(centre)) for centre in centres]
    return Least(*distances) if len(distances) > 1 else distances[0]


def tempo_part(reference: Reference) -> Combinable:
    """similarity.tempo_score in SQL: 1 in tempo, 0.8 at half or double time, off tempo falling
    from 0.8 to 0 at TEMPO_FALLOFF BPM outside the window; 0.5 when a BPM is unknown."""
    distance = tempo_distance(reference)
    if distance is None:
        return Value(UNKNOWN)
    in_tempo = Q(bpm__gte=round(reference.tempo or 0) - reference.tolerance) & Q(
        bpm__lte=round(reference.tempo or 0) + reference.tolerance
    )
    outside = ExpressionWrapper(
        Value(1.0) - (distance - Value(reference.tolerance)) / Value(TEMPO_FALLOFF),
        output_field=FloatField(),
    )
    return Case(
        When(bpm__isnull=True, then=Value(UNKNOWN)),
        When(in_tempo, then=Value(1.0)),
        # Half or double time; "tempo_distance" is the alias fit_partial gives `distance`.
        When(tempo_distance__lte=reference.tolerance, then=Value(OCTAVE_TEMPO)),
        default=Value(OCTAVE_TEMPO) * Greatest(Value(0.0), outside),
        output_field=FloatField(),
    )


def key_part(reference: Reference) -> Combinable:
    """similarity.key_score in SQL: 1 same key, 0.7 one that mixes, 0 another; 0.5 unknown."""
    song_key = parse_key(reference.key)
    if song_key is None:
        return Value(UNKNOWN)
    mixes = [k for k in mixing_keys(song_key) if k != song_key]
    return Case(
        When(key__in=key_spellings([song_key]), then=Value(1.0)),
        When(key__in=key_spellings(mixes), then=Value(RELATED_KEY)),
        When(key="", then=Value(UNKNOWN)),
        default=Value(0.0),
        output_field=FloatField(),
    )


def fit_partial(sounds: QuerySet[Sound], reference: Reference) -> QuerySet[Sound]:
    """The sounds ordered by the tempo and key parts of the fit, computed by the database."""
    distance = tempo_distance(reference)
    if distance is not None:
        sounds = sounds.alias(tempo_distance=distance)
    partial = Value(TEMPO_WEIGHT) * tempo_part(reference) + Value(KEY_WEIGHT) * key_part(reference)
    return sounds.alias(fit_partial=ExpressionWrapper(partial, output_field=FloatField())).order_by(
        F("fit_partial").desc(), "-freesound_id"
    )


def by_tempo(sounds: QuerySet[Sound], reference: Reference) -> QuerySet[Sound]:
    distance = tempo_distance(reference)
    if distance is None:
        return newest(sounds)
    return sounds.alias(tempo_distance=distance).order_by(
        F("tempo_distance").asc(nulls_last=True), "-freesound_id"
    )


def newest(sounds: QuerySet[Sound]) -> QuerySet[Sound]:
    """Freesound's ids grow with each upload: the highest is the newest sound."""
    return sounds.order_by("-freesound_id")


@dataclass(frozen=True)
class Ranked:
    """A sort that SQL cannot do alone: `head` (sound pks, best first) ranked in Python, then
    `tail`, a sorted QuerySet whose first `tail_skip` rows are the head's (or none are)."""

    head: list[int]
    tail: QuerySet[Sound]
    tail_skip: int
    total: int

    def count(self) -> int:
        return self.total

    def __len__(self) -> int:
        return self.total

    @overload
    def __getitem__(self, index: int) -> Sound: ...
    @overload
    def __getitem__(self, index: slice) -> list[Sound]: ...
    def __getitem__(self, index: int | slice) -> Sound | list[Sound]:
        if isinstance(index, int):
            return self[index : index + 1][0]
        start, stop = index.start or 0, min(index.stop if index.stop is not None else self.total, self.total)
        pks = self.head[start:stop]
        rows = Sound.objects.defer("embedding", "tag_vector").in_bulk(pks)
        sounds = [rows[pk] for pk in pks if pk in rows]
        if stop > len(self.head):
            offset = self.tail_skip + max(0, start - len(self.head))
            sounds += list(self.tail[offset : offset + (stop - max(start, len(self.head)))])
        return sounds


def ranked(
    sounds: QuerySet[Sound], *, sort: str, reference: Reference, total: int | None = None
) -> Ranked | QuerySet[Sound]:
    """The filtered sounds in the order asked for: a QuerySet when SQL sorts alone, else a Ranked.
    `total`, when known (Facets.total), is the number of `sounds`; else a Ranked counts them.

    - fit: the database orders by the tempo and key parts; the first FIT_CANDIDATES of that order
      are re-ranked by the whole blend (similarity.rank_by_sound: the audio part rescaled over those
      candidates, as the recommendations do); the rest follow in the database's order.
    - similar: the song's SIMILAR_CANDIDATES nearest sounds in the audio index that pass the
      filters, closest first; then the others, newest first.
    Without the song's vectors both keep the database's order (fit) or fall back to newest."""
    if sort == SORT_TEMPO:
        return by_tempo(sounds, reference)
    if sort == SORT_SIMILAR and reference.vectors is not None:
        return _by_similarity(sounds, reference.vectors, total=total)
    if sort == SORT_FIT:
        partial = fit_partial(sounds, reference)
        if reference.vectors is None:
            return partial
        return _by_fit(partial, reference, total=total)
    return newest(sounds)


def _by_fit(partial: QuerySet[Sound], reference: Reference, *, total: int | None) -> Ranked:
    assert reference.vectors is not None
    candidates = list(partial.defer(None).only(*CANDIDATE_FIELDS)[:FIT_CANDIDATES])
    vectors = {s.freesound_id: v for s in candidates if (v := _vectors(s)) is not None}
    scored = rank_by_sound(
        [_candidate(s) for s in candidates],
        song=reference.vectors,
        vectors=vectors,
        tempo=reference.tempo,
        key=reference.key,
        tolerance=reference.tolerance,
        seed=reference.seed,
        explain=False,
    )
    pk_of = {s.freesound_id: s.pk for s in candidates}
    head = [pk_of[s.candidate.freesound_id] for s in scored]
    if len(candidates) < FIT_CANDIDATES:
        total = len(candidates)
    elif total is None:
        total = partial.count()
    return Ranked(head=head, tail=partial, tail_skip=len(head), total=total)


def _by_similarity(sounds: QuerySet[Sound], song: SongVectors, *, total: int | None) -> Ranked:
    nearest = process_index().search(song.embedding, SIMILAR_CANDIDATES)
    order = {fid: i for i, (fid, _) in enumerate(nearest)}
    found = sounds.filter(freesound_id__in=list(order)).values_list("pk", "freesound_id")
    head = [pk for pk, fid in sorted(found, key=lambda row: order[row[1]])]
    tail = newest(sounds.exclude(pk__in=head))
    return Ranked(head=head, tail=tail, tail_skip=0, total=sounds.count() if total is None else total)


class CountedPaginator(Paginator):
    """A Paginator told its number of items, so a QuerySet is not counted a second time."""

    def __init__(self, object_list: Any, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self.known_count = count

    @cached_property
    def count(self) -> int:
        return self.known_count


def paginate(ordered: Ranked | QuerySet[Sound], *, number: int, total: int) -> Page:
    """The page `number` (clamped to the last) of `ordered`, whose length is `total`."""
    return CountedPaginator(ordered, PER_PAGE, count=total).get_page(number)


CANDIDATE_FIELDS = ("freesound_id", "author", "pack_uri", "licence", "duration", "tags", "bpm", "key",
                    "audio_status", "embedding", "tag_vector")  # fmt: skip


def _vectors(sound: Sound) -> SoundVectors | None:
    if sound.audio_status != Sound.AudioStatus.OK:
        return None
    embedding, tags = vector_from_bytes(sound.embedding), vector_from_bytes(sound.tag_vector)
    return None if embedding is None or tags is None else SoundVectors(embedding, tags)


def _candidate(sound: Sound) -> Candidate:
    return Candidate(
        freesound_id=sound.freesound_id,
        author=sound.author,
        pack=sound.pack_uri,
        licence=sound.licence,
        duration=sound.duration,
        tags=tuple(sound.tags or ()),
        bpm=sound.bpm,
        key=sound.key,
    )


# --- What the index lacks -----------------------------------------------------------------------------


def needs_top_up(*, total: int, page: int) -> bool:
    """Ask Freesound only on a view's first page, and only when the index has less than a page."""
    return page == 1 and total < PER_PAGE


def freesound_filter(*, query: LibraryQuery, reference: Reference, licences: Sequence[str]) -> str:
    """The view's filters in Freesound's filter syntax (its key filter is left out: the local
    filter applies to what the search stores)."""
    parts = [licence_filter(licences)]
    parts += [f"tag:{tag}" for tag in query.tags]
    if query.kind == KIND_LOOP:
        parts.append("tag:loop")
    elif query.kind == KIND_ONE_SHOT:
        parts.append("-tag:loop")
    _, low, high = DURATIONS.get(query.duration, DURATIONS[""])
    if low is not None or high is not None:
        parts.append(f"duration:[{_bound(low)} TO {_bound(high)}]")
    if query.fits_tempo and reference.windows:
        parts.append("(" + " OR ".join(f"bpm:[{lo} TO {hi}]" for lo, hi in reference.windows) + ")")
    if query.bpm_min is not None or query.bpm_max is not None:
        parts.append(f"bpm:[{_bound(query.bpm_min)} TO {_bound(query.bpm_max)}]")
    return " ".join(parts)


def _bound(value: float | None) -> str:
    return "*" if value is None else f"{value:g}"
