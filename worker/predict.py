"""Command line: python -m worker.predict FILE [FILE...] [--json] [--artifact DIR] [--spectrogram-dir DIR]

Prints one result per file (a JSON object per line with --json). A file that cannot be analysed gets
a one-line reason on stderr, the other files are still processed, and the exit code is 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from worker.audio.decode import AudioError
from worker.heads.genre_head import OUTSIDE_UNNAMED
from worker.predictor import PredictionResult, get_predictor


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m worker.predict", description="Genre, tempo and key of songs."
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument("--json", action="store_true", help="one JSON object per file on stdout")
    parser.add_argument(
        "--artifact", type=Path, default=None, help="model artifact folder (default: shipped)"
    )
    parser.add_argument("--spectrogram-dir", type=Path, default=None, help="write FILE.png spectrograms here")
    return parser.parse_args(argv)


def format_text(path: Path, result: PredictionResult) -> str:
    names = dict(zip(result.labels, result.display_names, strict=True))
    lines = [f"{path}  ({result.model_name} {result.model_version})"]
    lines += [f"  {names[slug]:<22} {p * 100:5.1f} %" for slug, p in result.top]
    if result.outside_taxonomy == OUTSIDE_UNNAMED:
        lines.append(f"  none of our seven genres; closest of them: {result.top_display_name}")
    elif result.outside_taxonomy:
        lines.append(
            f"  closest of our genres: {result.top_display_name}; this sounds like {result.outside_taxonomy}"
        )
    tempo = (
        f"{result.tempo_bpm:.1f} BPM (confidence {result.tempo_confidence:.2f})"
        if result.tempo_bpm
        else "unknown"
    )
    key = f"{result.key} (confidence {result.key_confidence:.2f})" if result.key else "unknown"
    lines.append(f"  tempo: {tempo}; key: {key}")
    lines.append("  tags: " + ", ".join(f"{tag} {p:.2f}" for tag, p in result.tags))
    return "\n".join(lines)


def run_one(path: Path, args: argparse.Namespace) -> bool:
    png = args.spectrogram_dir / f"{path.name}.png" if args.spectrogram_dir else None
    try:
        result = get_predictor(args.artifact).predict(path, spectrogram_png=png)
    except AudioError as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return False
    if args.json:
        print(json.dumps({"file": str(path), **result.to_dict()}, ensure_ascii=False))
    else:
        print(format_text(path, result))
    return True


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter is not our output
    args = parse_args(argv)
    ok = [run_one(path, args) for path in args.files]
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
