"""Preview resolution: the provider's own link, then Deezer by ISRC, Deezer search, iTunes."""

from __future__ import annotations

import pytest

from catalog.download import download_preview
from catalog.errors import NoPreview, PreviewExpired, RateLimited
from catalog.previews import fetch_preview, resolve_preview_url
from fakeapis import spotify as sp


def spotify_track(track_id: str) -> dict[str, str]:
    """What a prediction stores for a Spotify track (title and artist as Spotify spells them)."""
    from catalog.providers.spotify import SpotifyProvider

    track = SpotifyProvider().get_track(track_id)
    return {
        "provider": "spotify",
        "track_id": track.id,
        "isrc": track.isrc,
        "title": track.title,
        "artist": track.artist,
    }


@pytest.mark.usefixtures("catalog_settings")
def test_deezer_track_uses_its_own_preview(fake_deezer):
    url = resolve_preview_url(provider="deezer", track_id="3135553", isrc="GBDUW0000053")

    assert url.startswith(f"{fake_deezer.url}/preview/3135553.mp3?hdnea=exp=")


@pytest.mark.usefixtures("catalog_settings")
def test_preview_links_are_never_cached(fake_deezer):
    resolve_preview_url(provider="deezer", track_id="3135553")
    resolve_preview_url(provider="deezer", track_id="3135553")

    assert len(fake_deezer.calls("/track/3135553")) == 2


@pytest.mark.usefixtures("spotify_settings")
def test_spotify_preview_url_is_used_when_spotify_still_sends_one(fake_spotify, fake_deezer):
    url = resolve_preview_url(**spotify_track(sp.SHORT_CIRCUIT))

    assert url.startswith(f"{fake_spotify.url}/mp3-preview/")
    assert fake_deezer.calls() == []


@pytest.mark.usefixtures("spotify_settings")
def test_spotify_null_preview_is_resolved_through_deezer_by_isrc(fake_deezer):
    url = resolve_preview_url(**spotify_track(sp.ONE_MORE_TIME))

    assert "/preview/3135553.mp3" in url
    assert fake_deezer.calls("/track/isrc:GBDUW0000053")
    assert not fake_deezer.calls("/search")


@pytest.mark.usefixtures("spotify_settings")
def test_spotify_isrc_miss_is_resolved_through_deezer_search_with_a_title_match(fake_deezer):
    # Spotify: "Harder, Better, Faster, Stronger"; Deezer: "Harder Better Faster Stronger".
    url = resolve_preview_url(**spotify_track(sp.HARDER))

    assert "/preview/3135556.mp3" in url
    assert fake_deezer.calls("/track/isrc:USXXX9999999")
    assert fake_deezer.calls("/search")


@pytest.mark.usefixtures("spotify_settings")
def test_search_result_by_another_artist_is_rejected(fake_deezer, fake_itunes):
    # Deezer's only "Something About Us" is by "Daft Punk Tribute Band", which is not Daft Punk.
    with pytest.raises(NoPreview) as caught:
        resolve_preview_url(**spotify_track(sp.SOMETHING_ABOUT_US))

    assert str(caught.value) == "This track has no preview; upload the audio instead."
    assert fake_deezer.calls("/search")
    assert fake_itunes.calls("/search")


@pytest.mark.usefixtures("spotify_settings")
def test_itunes_is_the_last_fallback(fake_itunes):
    url = resolve_preview_url(**spotify_track(sp.FACE_TO_FACE))

    assert url.startswith(f"{fake_itunes.url}/itunes-assets/")
    assert "400000004" in url


@pytest.mark.usefixtures("spotify_settings")
def test_itunes_throttling_does_not_hide_a_plain_miss(fake_itunes):
    fake_itunes.throttle()

    with pytest.raises(NoPreview):
        resolve_preview_url(**spotify_track(sp.SOMETHING_ABOUT_US))


@pytest.mark.usefixtures("spotify_settings")
def test_spotify_track_with_only_an_id_is_looked_up_first():
    url = resolve_preview_url(provider="spotify", track_id=sp.ONE_MORE_TIME)

    assert "/preview/3135553.mp3" in url


@pytest.mark.usefixtures("catalog_settings")
def test_deezer_track_without_preview_and_no_other_source_has_no_preview():
    with pytest.raises(NoPreview):
        resolve_preview_url(
            provider="deezer",
            track_id="3135560",
            isrc="GBDUW0000060",
            title="Veridis Quo",
            artist="Daft Punk",
        )


@pytest.mark.usefixtures("catalog_settings")
def test_deezer_rate_limit_during_fallback_propagates_instead_of_no_preview(fake_deezer):
    fake_deezer.answer_error(code=4, path="/track/isrc:")

    with pytest.raises(RateLimited):
        resolve_preview_url(provider="spotify-gone", track_id="", isrc="GBDUW0000053", title="x", artist="y")


@pytest.mark.usefixtures("catalog_settings")
def test_expired_deezer_link_answers_403_and_is_refused(fake_deezer, tmp_path):
    url = resolve_preview_url(provider="deezer", track_id="3135553")
    fake_deezer.expire_previews()

    with pytest.raises(PreviewExpired):
        download_preview(url, tmp_path / "song")


@pytest.mark.usefixtures("catalog_settings")
def test_expired_deezer_link_is_re_resolved(fake_deezer, tmp_path, monkeypatch):
    import catalog.previews as previews

    real_resolve = previews.resolve_preview_url
    handed_out: list[str] = []

    def resolve_then_expire(**kwargs):
        url = real_resolve(**kwargs)
        handed_out.append(url)
        if len(handed_out) == 1:
            fake_deezer.expire_previews()  # the first link dies before it is downloaded
        return url

    monkeypatch.setattr(previews, "resolve_preview_url", resolve_then_expire)

    path = fetch_preview(provider="deezer", track_id="3135553", dest_path=tmp_path / "song")

    assert path.read_bytes()[:4] == b"RIFF"
    assert len(handed_out) == 2
    assert handed_out[0] != handed_out[1]
    assert len(fake_deezer.calls("/track/3135553")) == 2


@pytest.mark.usefixtures("catalog_settings")
def test_spotify_track_resolves_through_deezer_after_spotify_is_switched_off():
    url = resolve_preview_url(
        provider="spotify",
        track_id=sp.ONE_MORE_TIME,
        isrc="GBDUW0000053",
        title="One More Time",
        artist="Daft Punk",
    )

    assert "/preview/3135553.mp3" in url
