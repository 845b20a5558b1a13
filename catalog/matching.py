"""Does a search result name the same recording we were asked for?

What we accept, after normalising both sides (case folded, accents removed, "&" read as "and",
punctuation and extra spaces dropped):

* Title: equal, after removing a trailing "feat./ft." credit and trailing qualifiers in brackets or
  after " - " that only describe the release (remaster, remastered 2011, radio edit, single
  version, album version, mono/stereo, explicit/clean, deluxe, bonus track). Qualifiers that change
  the recording (live, remix, mix, acoustic, instrumental, demo, cover, karaoke...) are kept, so
  "Song (Live)" never matches "Song".
* Artist: the first (main) artist we were asked for equals one of the result's artists, where a
  credit like "A, B & C feat. D" is split into A, B, C, D. A longer name that merely contains it
  ("Daft Punk Tribute Band") does not match.
"""

from __future__ import annotations

import re
import unicodedata

_RELEASE_WORDS = (
    r"remaster(ed)?|re-?master(ed)?|radio edit|single version|album version|edit|mono|stereo|"
    r"explicit|clean|deluxe( edition)?|bonus track|original mix|\d{4} version|version \d{4}|\d{4}"
)
_QUALIFIER = re.compile(
    rf"\s*(\((?:[^)]*\b(?:{_RELEASE_WORDS})\b[^)]*)\)|\[(?:[^\]]*\b(?:{_RELEASE_WORDS})\b[^\]]*)\]"
    rf"|\s-\s[^-]*\b(?:{_RELEASE_WORDS})\b.*)$",
    re.IGNORECASE,
)
_FEAT = re.compile(r"\s*[\(\[]?\s*\b(feat\.?|ft\.?|featuring)\s.*$", re.IGNORECASE)
_ARTIST_SPLIT = re.compile(
    r"\s*(?:,|&|\band\b|\bfeat\.?|\bft\.?|\bfeaturing\b|\bwith\b|\bx\b|/|;)\s*", re.IGNORECASE
)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return text.casefold().replace("&", " and ")


def _squash(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def normalise_title(title: str) -> str:
    text = _FEAT.sub("", title.strip())
    previous = None
    while previous != text:  # "Song (Remastered) - Radio Edit": peel qualifiers one by one
        previous = text
        text = _QUALIFIER.sub("", text).strip()
    return _squash(_fold(text))


def artist_names(credit: str) -> set[str]:
    # Split before folding: folding turns "&" into "and", which is also a separator.
    parts = _ARTIST_SPLIT.split(unicodedata.normalize("NFKC", credit))
    return {_squash(_fold(p)) for p in parts if p and p.strip()} - {""}


def main_artist(credit: str) -> str:
    parts = [p for p in _ARTIST_SPLIT.split(credit) if p and p.strip()]
    return _squash(_fold(parts[0])) if parts else ""


def is_same_recording(*, want_title: str, want_artist: str, got_title: str, got_artist: str) -> bool:
    title = normalise_title(want_title)
    artist = main_artist(want_artist)
    if not title or not artist:
        return False
    if normalise_title(got_title) != title:
        return False
    same_credit = _squash(_fold(want_artist)) == _squash(_fold(got_artist))
    return same_credit or artist in artist_names(got_artist)
