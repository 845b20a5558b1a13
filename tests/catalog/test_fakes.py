"""The fake servers themselves speak the documented shapes (the parts no client test covers yet)."""

from __future__ import annotations

import requests

from fakeapis.freesound import API_KEY


def test_fake_freesound_search_pages_with_fields_and_licence_filter(fake_freesound):
    response = requests.get(
        fake_freesound.api_url + "search/",
        params={
            "query": "house",
            "filter": 'license:("Creative Commons 0" OR "Attribution") tag:loop',
            "fields": "id,name,license,previews,bpm",
            "page_size": "2",
        },
        headers={"Authorization": f"Token {API_KEY}"},
        timeout=5,
    )
    body = response.json()

    assert list(body) == ["count", "previous", "next", "results"]
    assert body["count"] == 6  # 8 house loops, minus the two CC-BY-NC ones
    assert set(body["results"][0]) == {"id", "name", "license", "previews", "bpm"}
    assert "page=2" in body["next"]
    preview = requests.get(body["results"][0]["previews"]["preview-hq-mp3"], timeout=5)
    assert preview.content[:4] == b"RIFF"


def test_fake_freesound_sound_errors_and_throttling(fake_freesound):
    auth = {"token": API_KEY}
    sound = requests.get(fake_freesound.api_url + "sounds/100001/", params=auth, timeout=5).json()
    no_key = requests.get(fake_freesound.api_url + "sounds/100001/", timeout=5)
    beyond = requests.get(
        fake_freesound.api_url + "search/", params={**auth, "query": "house", "page": "9"}, timeout=5
    )
    fake_freesound.answer_429()
    throttled = requests.get(fake_freesound.api_url + "sounds/100001/", params=auth, timeout=5)

    assert sound["license"] == "http://creativecommons.org/publicdomain/zero/1.0/"
    assert (no_key.status_code, no_key.json()) == (401, {"detail": "Invalid token."})
    assert beyond.status_code == 404
    assert throttled.status_code == 429
    assert "Retry-After" not in throttled.headers
    assert "(60/minute)" in throttled.json()["detail"]


def test_fake_deezer_preview_links_expire(fake_deezer):
    link = fake_deezer.preview_link(fake_deezer.tracks[3135553])

    fresh = requests.get(link, timeout=5)
    fake_deezer.expire_previews()
    expired = requests.get(link, timeout=5)

    assert fresh.status_code == 200
    assert expired.status_code == 403
