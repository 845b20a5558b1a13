"""The accuracy harness computes the metrics right: checked against hand-made annotations and estimates
on a few clips rendered here, never against a target accuracy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import soundfile as sf

from bench import accuracy
from corpus import render
from corpus.compose import Style, compose

needs_fluidsynth = pytest.mark.skipif(
    shutil.which("fluidsynth") is None or not render.DEFAULT_SOUNDFONT.is_file(),
    reason="needs Debian's fluidsynth and fluid-soundfont-gm",
)


@pytest.mark.parametrize(
    ("reference", "estimate", "expected"),
    [
        (120.0, 120.0, (True, True)),
        (120.0, 124.7, (True, True)),  # 3.9 % off
        (120.0, 125.5, (False, False)),  # 4.6 % off: neither
        (120.0, 60.0, (False, True)),  # half: an octave error
        (120.0, 241.0, (False, True)),
        (90.0, 30.0, (False, True)),  # a third
        (90.0, 270.0, (False, True)),
        (120.0, 90.0, (False, False)),  # 3/4 of the tempo is wrong either way
        (120.0, None, (False, False)),
    ],
)
def test_tempo_hits(reference: float, estimate: float | None, expected: tuple[bool, bool]) -> None:
    assert accuracy.tempo_hits(reference, estimate) == expected


@pytest.mark.parametrize(
    ("reference", "estimate", "expected"),
    [
        ("A minor", "A minor", 1.0),
        ("C major", "G major", 0.5),  # a fifth above
        ("C major", "A minor", 0.3),  # relative
        ("A minor", "C major", 0.3),
        ("A minor", "A major", 0.2),  # parallel
        ("C major", "F# major", 0.0),
        ("C major", None, 0.0),
        ("C# major", "Db major", 1.0),  # enharmonic spellings are the same key
    ],
)
def test_key_score(reference: str, estimate: str | None, expected: float) -> None:
    assert accuracy.key_score(reference, estimate) == expected


def test_read_annotations_with_and_without_header(tmp_path: Path) -> None:
    (tmp_path / "with.tsv").write_text("file\ttempo\tkey\tgenre\tsource\na.wav\t96\tA minor\trock\tlive\n")
    (tmp_path / "without.tsv").write_text("b.flac\t120.5\tEb major\n\nc.mp3\t\tX\n")

    (a,) = accuracy.read_annotations(tmp_path / "with.tsv")
    b, c = accuracy.read_annotations(tmp_path / "without.tsv")

    assert (a.file, a.tempo, a.key, a.columns["genre"], a.columns["source"]) == (
        tmp_path / "a.wav",
        96.0,
        "A minor",
        "rock",
        "live",
    )
    assert (b.tempo, b.key, "genre" in b.columns) == (120.5, "Eb major", False)
    assert (c.tempo, c.key) == (None, "X")


@pytest.mark.parametrize(
    ("line", "message"),
    [("a.wav\tfast\tC major", "not a number"), ("a.wav\t120\tH major", "row 1"), ("a.wav\t120", "columns")],
)
def test_bad_annotations_are_refused_with_the_row(tmp_path: Path, line: str, message: str) -> None:
    (tmp_path / "a.tsv").write_text(line + "\n")

    with pytest.raises(accuracy.AnnotationError, match=message):
        accuracy.read_annotations(tmp_path / "a.tsv")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three short rendered clips and hand-made annotations (true tempo and key of each)."""
    folder = tmp_path_factory.mktemp("corpus")
    styles = [
        Style("rock", 120.0, tonic=9, mode="minor", seconds=8.0),
        Style("rock", 100.0, tonic=0, mode="major", seconds=8.0),
        Style("waltz", 90.0, tonic=7, mode="major", meter=3, drums="none", seconds=8.0),
    ]
    lines = ["file\ttempo\tkey\tgenre"]
    for i, style in enumerate(styles):
        piece = compose(style, seed=i)
        wav = render.render_wav(piece.midi, folder / f"{i}.wav")
        audio, sr = sf.read(wav)
        sf.write(folder / f"{i}.flac", audio.mean(axis=1), sr)
        lines.append(f"{i}.flac\t{piece.tempo:g}\t{piece.key}\t{style.name}")
    (folder / "annotations.tsv").write_text("\n".join(lines) + "\n")
    return folder / "annotations.tsv"


@needs_fluidsynth
def test_evaluate_scores_hand_made_estimates_per_group(corpus: Path) -> None:
    annotations = accuracy.read_annotations(corpus)
    truth = {a.file: a for a in annotations}
    # Per clip: A minor/120 exactly right; C major/100 at double tempo and a fifth up (G major);
    # G major/90 at a wrong tempo and the wrong key entirely (C# major). The second offers the right
    # key among its alternatives, the third does not.
    made = {
        annotations[0].file: accuracy.Estimate(120.3, "A minor", 0.9, 0.8),
        annotations[1].file: accuracy.Estimate(
            200.0, "G major", 0.3, 0.4, key_alternatives=("E minor", "C major")
        ),
        annotations[2].file: accuracy.Estimate(71.0, "C# major", 0.1, 0.2, key_alternatives=("Bb minor",)),
    }

    def oracle(path: Path) -> accuracy.Estimate:
        assert path in truth
        assert path.is_file()
        return made[path]

    tallies = accuracy.evaluate(annotations, {"made": oracle}, group_by="genre")

    assert tallies["all"]["made"].figures() == pytest.approx(
        {"acc1": 1 / 3, "acc2": 2 / 3, "exact": 1 / 3, "offered": 2 / 3, "mirex": (1.0 + 0.5 + 0.0) / 3}
    )
    assert tallies["rock"]["made"].figures() == pytest.approx(
        {"acc1": 0.5, "acc2": 1.0, "exact": 0.5, "offered": 1.0, "mirex": 0.75}
    )
    assert tallies["waltz"]["made"].figures() == {
        "acc1": 0.0,
        "acc2": 0.0,
        "exact": 0.0,
        "offered": 0.0,
        "mirex": 0.0,
    }
    assert tallies["all"]["made"].bpm_errors == [pytest.approx(0.3)]  # the one Acc1 hit, 120.3 for 120
    assert tallies["all"]["made"].tempo_conf == {True: [0.9], False: [0.3, 0.1]}
    assert tallies["all"]["made"].key_conf == {True: [0.8], False: [0.4, 0.2]}


@needs_fluidsynth
def test_harness_runs_both_estimators_on_rendered_clips(
    corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    per_clip = corpus.parent / "per_clip.tsv"

    accuracy.main([str(corpus), "--per-clip", str(per_clip)])

    out = capsys.readouterr().out
    assert "3 clips" in out
    header, *rows = per_clip.read_text().splitlines()
    assert header.split("\t") == [
        "file",
        "tempo",
        "key",
        *(
            f"{name}_{column}"
            for name in ("project", "onset (before)", "beatnet", "librosa")
            for column in ("tempo", "key", "tempo_confidence")
        ),
    ]
    assert len(rows) == 3
    all_row = next(line for line in out.splitlines() if line.startswith("all"))
    figures = [float(x) for x in all_row.split()[2:]]
    assert len(figures) == 20  # 5 metrics x 4 estimators
    assert all(0.0 <= f <= 1.0 for f in figures)
    assert "project time per clip" in out
    assert "onset (before) time per clip" in out


def test_bpm_errors_are_reported_per_group_on_acc1_hits_only() -> None:
    tally = accuracy.Tally()
    for reference, estimate in ((126.0, 126.1), (100.0, 101.0), (100.0, 200.0)):
        tally.add(accuracy.Annotation(Path("x.wav"), reference, "X"), accuracy.Estimate(estimate, None))

    text = accuracy.format_bpm_errors({"all": {"made": tally}}, ["made"])

    assert tally.bpm_errors == [pytest.approx(0.1), pytest.approx(1.0)]  # 200 for 100 is no hit
    assert "0.55 / 0.91 (2)" in text
