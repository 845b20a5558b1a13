"""bench/realset.py restores clips from a snapshot by commit, path and sha256, on a git repository made
here with generated audio: never the real set, never the network."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import mir_eval.key
import numpy as np
import pytest
import soundfile as sf

from bench import accuracy, realset

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def _commit_all(work: Path, message: str) -> str:
    """A new repository at `work` with everything in it committed; its commit."""
    _git(work, "init", "-q")
    _git(work, "add", ".")
    _git(work, "commit", "-q", "-m", message)
    return _git(work, "rev-parse", "HEAD")


def _mirror(work: Path, mirror: Path, repo: str) -> None:
    """A bare snapshot of `work` where restore looks for owner/name: MIRROR/owner+name/repo."""
    target = mirror / repo.replace("/", "+") / "repo"
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(target)], check=True)


@pytest.fixture
def snapshot(tmp_path: Path) -> tuple[Path, str, bytes]:
    """A bare snapshot of owner/songs at MIRROR/owner+songs/repo holding one generated WAV and one LFS pointer."""
    work = tmp_path / "work"
    (work / "clips").mkdir(parents=True)
    t = np.arange(22050) / 22050
    sf.write(work / "clips" / "tone.wav", 0.3 * np.sin(2 * np.pi * 440 * t), 22050, subtype="PCM_16")
    (work / "clips" / "pointer.wav").write_text("version https://git-lfs.github.com/spec/v1\noid sha256:00\n")
    commit = _commit_all(work, "clips")
    mirror = tmp_path / "mirror"
    _mirror(work, mirror, "owner/songs")
    return mirror, commit, (work / "clips" / "tone.wav").read_bytes()


def _clip(commit: str, data: bytes, **changes: str) -> realset.Clip:
    fields = {
        "clip": "src.tone",
        "source": "src",
        "repo": "owner/songs",
        "commit": commit,
        "path": "clips/tone.wav",
        "sha256": realset.sha256(data),
        "tempo": "120.00",
        "key": "A minor",
        "source_label": "disco",
        "genre": "dance",
        "fold": "0",
        "annotation": "made in the test",
    }
    return realset.Clip(**(fields | changes))


def test_manifest_round_trip(tmp_path: Path) -> None:
    clips = [_clip("a" * 40, b"x"), _clip("b" * 40, b"y", clip="src.other", tempo="", key="", genre="")]
    realset.write_manifest(clips, tmp_path / "manifest.tsv")
    assert realset.read_manifest(tmp_path / "manifest.tsv") == clips


def test_restore_writes_audio_and_tables_for_the_harness_and_the_genre_command(
    snapshot: tuple[Path, str, bytes], tmp_path: Path
) -> None:
    mirror, commit, data = snapshot
    out = tmp_path / "out"
    tempo_only = _clip(commit, data, clip="src.tempo_only", genre="", source_label="")
    report = realset.restore([_clip(commit, data), tempo_only], mirror, out)
    assert (report.missing_repos, report.failed) == ([], [])
    assert (out / "audio" / "src.tone.wav").read_bytes() == data
    annotations = accuracy.read_annotations(out / "annotations.tsv")  # bench/accuracy.py reads it as is
    assert [(a.file.name, a.tempo, a.key) for a in annotations] == [
        ("src.tone.wav", 120.0, "A minor"),
        ("src.tempo_only.wav", 120.0, "A minor"),
    ]
    assert annotations[0].columns["source"] == "src"
    genre_rows = (out / "genre.tsv").read_text().splitlines()
    assert genre_rows == [
        "file\tgenre\tsource\tsource_label\tfold",
        "audio/src.tone.wav\tdance\tsrc\tdisco\t0",
    ]
    assert (out / "genre" / "dance" / "src.tone.wav").read_bytes() == data
    assert (out / "genre-by-source" / "src" / "dance" / "src.tone.wav").is_file()
    assert not (out / "genre" / "dance" / "src.tempo_only.wav").exists()


def test_restore_refuses_a_changed_file_and_an_lfs_pointer(
    snapshot: tuple[Path, str, bytes], tmp_path: Path
) -> None:
    mirror, commit, data = snapshot
    wrong = _clip(commit, data, sha256="0" * 64)
    pointer = _clip(commit, data, clip="src.pointer", path="clips/pointer.wav")
    report = realset.restore([wrong, pointer], mirror, tmp_path / "out")
    reasons = {clip.clip: reason for clip, reason in report.failed}
    assert "differs from the manifest" in reasons["src.tone"]
    assert "Git LFS pointer" in reasons["src.pointer"]
    assert not list((tmp_path / "out" / "audio").iterdir())


def test_restore_converts_other_formats_to_wav(snapshot: tuple[Path, str, bytes], tmp_path: Path) -> None:
    if shutil.which("ffmpeg") is None:
        pytest.skip("needs ffmpeg")
    mirror, commit, _ = snapshot
    work = tmp_path / "work"
    sf.write(work / "clips" / "tone.flac", np.zeros(2205), 22050)
    _git(work, "add", ".")
    _git(work, "commit", "-q", "-m", "flac")
    _git(mirror / "owner+songs" / "repo", "fetch", "-q", str(work), "+HEAD:refs/heads/master")
    flac = (work / "clips" / "tone.flac").read_bytes()
    commit = _git(work, "rev-parse", "HEAD")
    report = realset.restore([_clip(commit, flac, path="clips/tone.flac")], mirror, tmp_path / "out")
    assert report.failed == []
    samples, rate = sf.read(tmp_path / "out" / "audio" / "src.tone.wav")
    assert (len(samples), rate) == (2205, 22050)


def test_missing_snapshot_is_named_with_how_to_fetch_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "manifest.tsv"
    realset.write_manifest([_clip("c" * 40, b"z", repo="someone/absent")], manifest)
    code = realset.main(["restore", "--mirror", str(tmp_path / "mirror"), "--out", str(tmp_path / "out"),
                         "--manifest", str(manifest)])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "fetch github:someone/absent" in err
    assert "cannot fetch" in err


def test_lerch_keys_and_genre_table() -> None:
    assert realset.lerch_key(22) == "G minor"
    assert realset.lerch_key(3) == "C major"
    assert realset.lerch_key(-1) == ""
    gtzan = realset.GENRE_MAP["gtzan"]
    assert (gtzan["disco"], gtzan["hiphop"], gtzan["metal"], gtzan["reggae"]) == (
        "dance",
        "rnb",
        "rock",
        "outside",
    )
    for table in realset.GENRE_MAP.values():
        assert set(table.values()) <= set(realset.OUR_GENRES) | {realset.OUTSIDE}


def test_beatport_labels_map_club_music_to_dance_and_leave_the_ambiguous_unmapped() -> None:
    steps = realset.GENRE_MAP["giantsteps"]
    assert {steps[label] for label in ("house", "tech-house", "techno", "trance")} == {"dance"}
    assert {steps[label] for label in ("electronica", "chill-out")} == {"electronica"}
    for label in ("breaks", "drum-and-bass", "dubstep", "dj-tools"):
        assert steps.get(label, "") == ""


def test_committed_manifest_is_well_formed() -> None:
    clips = realset.read_manifest()
    assert len({c.clip for c in clips}) == len(clips)
    assert len({c.sha256 for c in clips}) == len(clips)
    for clip in clips:
        assert len(clip.commit) == 40
        assert len(clip.sha256) == 64
        assert clip.genre in {"", realset.OUTSIDE, *realset.OUR_GENRES}
        if clip.tempo:
            assert float(clip.tempo) > 0
        if clip.key:
            mir_eval.key.validate_key(clip.key)  # raises on a spelling mir_eval can't score


def test_build_takes_a_file_labelled_sources_genre_from_its_table(
    snapshot: tuple[Path, str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    mirror, commit, data = snapshot
    monkeypatch.setattr(realset, "ANNOTATIONS", dict.fromkeys(realset.ANNOTATIONS, "owner/songs"))
    monkeypatch.setattr(
        realset,
        "SOURCES",
        [realset.AudioSource("owner/songs", "named", r"^clips/(?P<file>\w+)\.wav$", "named", "test")],
    )
    monkeypatch.setitem(realset.GENRE_MAP, "named", {"reggae": realset.OUTSIDE})
    monkeypatch.setitem(realset.FILE_LABELS, "named", realset.FileLabels("the test", {"tone": "reggae"}))
    clips = realset.build(mirror)
    # pointer.wav has no label (and is an LFS pointer): only the tone is kept
    assert [(c.clip, c.source_label, c.genre, c.commit, c.sha256) for c in clips] == [
        ("named.tone", "reggae", realset.OUTSIDE, commit, realset.sha256(data))
    ]
    assert clips[0].annotation == "genre from the test"


def test_build_reads_a_source_at_its_pinned_commit_and_files_songs_by_their_dance(
    snapshot: tuple[Path, str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mirror, _, data = snapshot
    work = tmp_path / "quiz"
    folder = work / "public" / "audio" / "two step, 2 step"
    folder.mkdir(parents=True)
    (folder / "Pérez Prado, Band - Mambo.mp3").write_bytes(data)  # build does not decode
    (folder / "Left Out - Song.mp3").write_bytes(data + b"\0")
    (work / "public" / "audio" / "jive").mkdir()
    (work / "public" / "audio" / "jive" / "Any - Song.mp3").write_bytes(data + b"\1")
    with_audio = _commit_all(work, "songs")
    _git(work, "rm", "-q", "-r", "public")
    _git(work, "commit", "-q", "-m", "remove local files")
    _mirror(work, mirror, "owner/quiz")
    monkeypatch.setattr(realset, "ANNOTATIONS", dict.fromkeys(realset.ANNOTATIONS, "owner/songs"))
    quiz = next(s for s in realset.SOURCES if s.vocabulary == "dancequiz")
    monkeypatch.setattr(
        realset, "SOURCES", [realset.AudioSource("owner/quiz", "dancequiz", quiz.pattern, "dancequiz", "test",
                                                 commit=with_audio[:7])]
    )  # fmt: skip
    monkeypatch.setitem(realset.LEFT_OUT, "dancequiz", {"Left Out - Song"})
    clips = realset.build(mirror)
    # jive is not in the pattern (danced to any genre); the left-out song is skipped
    assert [(c.clip, c.source_label, c.genre, c.commit, c.fold) for c in clips] == [
        (
            "dancequiz.perez-prado-band-mambo",
            "two step",
            realset.OUTSIDE,
            with_audio,
            realset.artist_fold("Pérez Prado"),
        )
    ]
    assert realset.slug("YEИDRY - Herrera") == "yedry-herrera"


def test_build_labels_a_folder_labelled_source_by_its_folder(
    snapshot: tuple[Path, str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    mirror, commit, data = snapshot
    monkeypatch.setattr(realset, "ANNOTATIONS", dict.fromkeys(realset.ANNOTATIONS, "owner/songs"))
    source = realset.AudioSource(
        "owner/songs", "folders", r"^(?P<label>clips)/(?P<file>\w+)\.wav$", "folders", "test"
    )
    monkeypatch.setattr(realset, "SOURCES", [source])
    monkeypatch.setitem(realset.GENRE_MAP, "folders", {"clips": "rock"})
    monkeypatch.setattr(realset, "FOLDER_LABELLED", {"folders"})
    clips = realset.build(mirror)
    assert [(c.clip, c.source_label, c.genre, c.sha256) for c in clips] == [
        ("folders.tone", "clips", "rock", realset.sha256(data))
    ]  # pointer.wav is a Git LFS pointer
    monkeypatch.setitem(realset.LEFT_OUT, "folders", {"tone"})
    assert realset.build(mirror) == []


def test_a_folder_labelled_source_that_names_the_artist_folds_by_artist(
    snapshot: tuple[Path, str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    mirror, _, _ = snapshot
    monkeypatch.setattr(realset, "ANNOTATIONS", dict.fromkeys(realset.ANNOTATIONS, "owner/songs"))
    monkeypatch.setitem(realset.GENRE_MAP, "folders", {"clips": "rock"})
    monkeypatch.setattr(realset, "FOLDER_LABELLED", {"folders"})
    pattern = r"^(?P<label>clips)/(?P<file>tone)\.wav$"
    monkeypatch.setattr(
        realset, "SOURCES", [realset.AudioSource("owner/songs", "art", pattern, "folders", "test")]
    )
    plain = realset.build(mirror)
    pattern = r"^(?P<label>(?P<artist>clips))/(?P<file>tone)\.wav$"
    monkeypatch.setattr(
        realset, "SOURCES", [realset.AudioSource("owner/songs", "art", pattern, "folders", "test")]
    )
    by_artist = realset.build(mirror)
    assert [(c.clip, c.fold) for c in plain] == [("art.tone", "0")]
    assert [(c.clip, c.fold) for c in by_artist] == [("art.clips-tone", realset.artist_fold("clips"))]


def test_build_takes_guesssong_genres_from_its_song_list(
    snapshot: tuple[Path, str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mirror, _, data = snapshot
    work = tmp_path / "game"
    for folder in ("pop", "rock"):
        (work / "public" / "songs" / folder).mkdir(parents=True)
    (work / "public" / "songs" / "pop" / "hit.mp3").write_bytes(data)
    (work / "public" / "songs" / "rock" / "both.mp3").write_bytes(data + b"\0")
    (work / "src").mkdir()
    songs = [
        {
            "title": "Hit",
            "artist": "Singer & Band",
            "categories": ["Pop", "Pop 20s"],
            "snippet": "/songs/pop/hit.mp3",
        },
        {"title": "Both", "artist": "Duo", "categories": ["Rock", "Pop"], "snippet": "/songs/rock/both.mp3"},
    ]
    (work / "src" / "songs.json").write_text(json.dumps(songs))
    _commit_all(work, "songs")
    _mirror(work, mirror, "owner/game")
    monkeypatch.setattr(realset, "ANNOTATIONS", dict.fromkeys(realset.ANNOTATIONS, "owner/songs"))
    game = next(s for s in realset.SOURCES if s.vocabulary == "guesssong")
    monkeypatch.setattr(
        realset,
        "SOURCES",
        [realset.AudioSource("owner/game", "guesssong", game.pattern, "guesssong", "test")],
    )
    clips = realset.build(mirror)
    # both.mp3 is filed under two genres and skipped
    assert [(c.clip, c.source_label, c.genre, c.fold) for c in clips] == [
        ("guesssong.hit", "Pop", "pop", realset.artist_fold("Singer"))
    ]
