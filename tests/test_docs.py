"""What an operator must read before deploying is in the docs they read first."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FREESOUND_API_TERMS = "https://freesound.org/help/tos_api/"


@pytest.mark.parametrize("doc", ["README.md", "docs/recommendations.md"])
def test_freesound_api_terms_are_stated_with_their_link(doc):
    text = " ".join((ROOT / doc).read_text(encoding="utf-8").split())

    assert FREESOUND_API_TERMS in text
    assert "non-commercial purposes only" in text
    assert "licence from" in text
    assert "MTG" in text
