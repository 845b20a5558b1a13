"""The musicness detector (worker.musicness) on real music and on generated audio that is not music.

    .venv/bin/python bench/musicness.py [--realset var/realset] [--limit N] [--per-clip out.tsv]

Real music: every WAV of the real-recordings development set (`bench/realset.py restore` puts them
under var/realset/audio); none of them may be flagged. Generated music: the synthetic pieces of
worker.audio.synth and, when FluidSynth is installed, a few corpus pieces. Generated negatives:
white, pink and brown noise at two levels, hiss and hum near silence, and espeak-ng speech in
several voices and rates (corpus.speech), plain and over quiet noise. Each clip goes through the
worker's own path: load_audio's 16 kHz excerpt, the tempo estimate's agreement, then the detector.

Prints the false-positive rate (music flagged) and the true-positive rate (negatives flagged), per
group, and the measures of the real clips closest to each threshold.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from worker import analysis, musicness  # noqa: E402
from worker.audio import synth  # noqa: E402
from worker.audio.decode import load_audio  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SECONDS = 32.0
SPEECH_VOICES = (("en", 160), ("en-us", 175), ("en+f3", 150), ("en+m3", 190), ("de", 160), ("fr", 170),
                 ("es", 150), ("en+f4", 130))  # fmt: skip


def generated_negatives(folder: Path) -> Iterator[tuple[str, str, Path]]:
    """(group, name, wav path) of audio that is not music."""

    def wav(name: str, samples: np.ndarray) -> Path:
        path = folder / f"{name}.wav"
        sf.write(path, np.clip(samples, -1.0, 1.0), synth.SR)
        return path

    for colour in ("white", "pink", "brown"):
        for level, label in ((0.3, "loud"), (0.03, "soft")):
            for seed in (0, 1):
                name = f"{colour}-{label}-{seed}"
                yield "noise", name, wav(name, synth.noise(SECONDS, colour, seed=seed, level=level))
    t = np.arange(int(SECONDS * synth.SR)) / synth.SR
    for db in (-48.0, -55.0):
        level = 10 ** (db / 20)
        yield (
            "near-silence",
            f"hiss{db:.0f}",
            wav(f"hiss{db:.0f}", synth.noise(SECONDS, "white", level=level)),
        )
        hum = level * np.sqrt(2) * np.sin(2 * np.pi * 50 * t) + synth.noise(SECONDS, "pink", level=level / 4)
        yield "near-silence", f"hum{db:.0f}", wav(f"hum{db:.0f}", hum.astype(np.float32))
    from corpus.speech import SpeechError, speak_wav

    for voice, rate in SPEECH_VOICES:
        name = f"speech-{voice}-{rate}"
        try:
            path = speak_wav(folder / f"{name}.wav", voice=voice, words_per_minute=rate)
        except SpeechError as exc:
            print(f"skipping speech: {exc}", file=sys.stderr)
            return
        yield "speech", name, path
        if voice in ("en", "de"):
            spoken, rate_hz = sf.read(path, dtype="float32")
            noisy = spoken + synth.noise(len(spoken) / rate_hz, "pink", sr=rate_hz, level=0.01)
            path = folder / f"{name}-noisy.wav"
            sf.write(path, np.clip(noisy, -1.0, 1.0), rate_hz)
            yield "speech", f"{name}-noisy", path


def generated_music(folder: Path) -> Iterator[tuple[str, str, Path]]:
    for name, samples in (
        ("drums_and_bass", synth.drums_and_bass(SECONDS)),
        ("piano", synth.piano_piece(SECONDS)),
    ):
        path = folder / f"{name}.wav"
        sf.write(path, samples, synth.SR)
        yield "generated music", name, path
    try:
        from corpus.compose import Style, compose
        from corpus.render import RenderError, render_wav

        for style in (Style("rock", 120.0, 4), Style("ballad", 72.0, 9, "minor", drums="none", rubato=0.05)):
            path = render_wav(compose(style).midi, folder / f"corpus-{style.name}.wav")
            yield "generated music", f"corpus-{style.name}", path
    except (RenderError, ValueError) as exc:
        print(f"skipping corpus pieces: {exc}", file=sys.stderr)


def judge(path: Path) -> musicness.Verdict:
    audio = load_audio(path)
    tempo = analysis.estimate_tempo(audio.samples, audio.sample_rate)
    return musicness.judge(audio.samples, audio.sample_rate, pulse=tempo.pulse)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--realset", type=Path, default=ROOT / "var" / "realset")
    parser.add_argument("--limit", type=int, default=0, help="at most this many real clips")
    parser.add_argument("--per-clip", type=Path, help="write every clip's measures and verdict as TSV")
    args = parser.parse_args(argv)
    real = sorted((args.realset / "audio").glob("*.wav"))[: args.limit or None]
    if not real:
        print(f"no real clips under {args.realset / 'audio'}: run bench/realset.py restore", file=sys.stderr)
    rows: list[tuple[str, str, musicness.Verdict]] = []
    with tempfile.TemporaryDirectory(prefix="musicness-") as tmp:
        clips = [("real music", p.stem, p) for p in real]
        clips += list(generated_music(Path(tmp))) + list(generated_negatives(Path(tmp)))
        for group, name, path in clips:
            rows.append((group, name, judge(path)))
    if args.per_clip:
        with args.per_clip.open("w", newline="") as handle:
            writer = csv.writer(handle, delimiter="\t")
            writer.writerow(["group", "clip", "verdict", *musicness.Measures.__dataclass_fields__])
            for group, name, verdict in rows:
                writer.writerow([group, name, verdict.kind, *verdict.measures.to_dict().values()])
    print(f"{'group':<16} {'clips':>5} {'flagged':>7} {'rate':>6}  verdicts")
    for group in dict.fromkeys(g for g, _, _ in rows):
        kinds = [v.kind for g, _, v in rows if g == group]
        flagged = sum(kind != musicness.MUSIC for kind in kinds)
        counts = ", ".join(f"{k} {kinds.count(k)}" for k in sorted(set(kinds)))
        print(f"{group:<16} {len(kinds):>5} {flagged:>7} {flagged / len(kinds):>6.1%}  {counts}")
    music = [v for g, _, v in rows if g in ("real music", "generated music")]
    negatives = [v for g, _, v in rows if g not in ("real music", "generated music")]
    if music:
        print(f"false-positive rate (music flagged): {sum(not v.is_music for v in music) / len(music):.1%}")
    if negatives:
        print(
            f"true-positive rate (not music flagged): {sum(not v.is_music for v in negatives) / len(negatives):.1%}"
        )
    _margins([(n, v) for g, n, v in rows if g == "real music"])
    return 0


def _margins(real: list[tuple[str, musicness.Verdict]]) -> None:
    """The real clips nearest to each rule: how much room the thresholds leave."""
    if not real:
        return
    quiet = min(real, key=lambda item: item[1].measures.loud_dbfs)
    steady = min(real, key=lambda item: item[1].measures.spectral_change)
    gappy = max(real, key=lambda item: item[1].measures.low_energy)
    print("real clips closest to each rule:")
    print(
        f"  quietest        {quiet[0]}: {quiet[1].measures.to_dict()} (near-silence: loud_dbfs < {musicness.QUIET_DBFS})"
    )
    print(
        f"  steadiest       {steady[0]}: {steady[1].measures.to_dict()} (noise: spectral_change < {musicness.STEADY_BELOW})"
    )
    print(
        f"  most low-energy {gappy[0]}: {gappy[1].measures.to_dict()} "
        f"(speech: low_energy >= {musicness.SPEECH_LOW_ENERGY} and pulse < {musicness.SPEECH_PULSE})"
    )


if __name__ == "__main__":
    raise SystemExit(main())
