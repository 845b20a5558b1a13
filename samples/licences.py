"""Freesound licences. The API returns deed URLs with mixed http/https and versions, so we match
on the path and keep a short code; search filters use Freesound's licence *names*."""

from __future__ import annotations

import re

from django.db import models


class Licence(models.TextChoices):
    CC0 = "cc0", "CC0"
    BY = "by", "CC BY"
    BY_NC = "by-nc", "CC BY-NC"
    SAMPLING_PLUS = "sampling+", "Sampling+"
    OTHER = "other", "Other"

    @classmethod
    def default_codes(cls) -> list[str]:
        """Royalty-free for any use: CC0, and CC BY with attribution."""
        return [cls.CC0.value, cls.BY.value]

    @classmethod
    def selectable(cls) -> list[tuple[str, str]]:
        # Sampling+ is retired on Freesound and forbids some uses: never offered.
        return [(c.value, c.label) for c in (cls.CC0, cls.BY, cls.BY_NC)]

    @property
    def search_name(self) -> str:
        """The name Freesound's `license:` filter matches."""
        return _SEARCH_NAMES.get(self.value, "")

    @property
    def needs_attribution(self) -> bool:
        return self in (Licence.BY, Licence.BY_NC)

    @property
    def commercial_use(self) -> bool:
        return self in (Licence.CC0, Licence.BY)


_SEARCH_NAMES = {"cc0": "Creative Commons 0", "by": "Attribution", "by-nc": "Attribution NonCommercial"}
_PATHS = [
    ("/publicdomain/zero/", Licence.CC0),
    ("/licenses/by-nc/", Licence.BY_NC),
    ("/licenses/by/", Licence.BY),
    ("/sampling+/", Licence.SAMPLING_PLUS),
]


def licence_from_url(url: str) -> str:
    lowered = url.lower()
    for fragment, licence in _PATHS:
        if fragment in lowered:
            return licence.value
    return Licence.OTHER.value


def licence_full_name(url: str) -> str:
    """The name with version, as CC asks attributions to give it, e.g. "Creative Commons Attribution 4.0"."""
    code = Licence(licence_from_url(url))
    version = re.search(r"/(\d+\.\d+)/?", url)
    suffix = f" {version.group(1)}" if version else ""
    names = {
        Licence.CC0: "Creative Commons 0 (CC0 1.0 Universal)",
        Licence.BY: f"Creative Commons Attribution{suffix} (CC BY{suffix})",
        Licence.BY_NC: f"Creative Commons Attribution-NonCommercial{suffix} (CC BY-NC{suffix})",
        Licence.SAMPLING_PLUS: f"Creative Commons Sampling+{suffix}",
    }
    return names.get(code, url)


def licence_badge(url: str) -> str:
    """Short label with version for cards: "CC0", "CC BY 4.0", "CC BY-NC 3.0"."""
    code = Licence(licence_from_url(url))
    version = re.search(r"/(\d+\.\d+)/?", url)
    if code in (Licence.BY, Licence.BY_NC) and version:
        return f"{code.label} {version.group(1)}"
    return code.label
