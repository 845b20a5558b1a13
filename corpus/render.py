"""Render a pretty_midi piece to a WAV file with the FluidSynth command-line synthesiser.

The soundfont is a General MIDI bank: Debian's fluid-soundfont-gm (FluidR3_GM) by default, or the
file named by SEVENFOUR_SOUNDFONT or the `soundfont` argument. FluidSynth runs as a subprocess
(`fluidsynth -F out.wav`) so no binding library is needed and a crash cannot take the caller down.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pretty_midi

DEFAULT_SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
SOUNDFONT_ENV = "SEVENFOUR_SOUNDFONT"
DEFAULT_SAMPLE_RATE = 22_050
# FluidSynth's default gain (0.2) leaves a dense GM arrangement around -25 dBFS; 0.5 brings it near
# the level of mastered music without clipping a five-part arrangement.
DEFAULT_GAIN = 0.5
RENDER_TIMEOUT_S = 120.0


class RenderError(Exception):
    """The piece could not be rendered; str() says why and what to install or set."""


def soundfont_path(soundfont: str | Path | None = None) -> Path:
    """The soundfont to use: the argument, else $SEVENFOUR_SOUNDFONT, else Debian's FluidR3_GM."""
    path = Path(soundfont or os.environ.get(SOUNDFONT_ENV) or DEFAULT_SOUNDFONT)
    if not path.is_file():
        raise RenderError(
            f"soundfont not found: {path}. Install Debian's fluid-soundfont-gm "
            f"or point {SOUNDFONT_ENV} at a General MIDI .sf2 file."
        )
    return path


def fluidsynth_binary() -> str:
    binary = shutil.which("fluidsynth")
    if binary is None:
        raise RenderError("the fluidsynth program is not installed (Debian package: fluidsynth).")
    return binary


def render_wav(
    midi: pretty_midi.PrettyMIDI,
    out_path: str | Path,
    *,
    soundfont: str | Path | None = None,
    sample_rate: int = DEFAULT_SAMPLE_RATE,
    gain: float = DEFAULT_GAIN,
    reverb: bool = False,
) -> Path:
    """Write `midi` as a 16-bit stereo WAV at `sample_rate` and return its path.

    FluidSynth's built-in reverb and chorus are off by default so that the caller decides on room
    effects (the corpus adds its own reverb as a separate, labelled augmentation).
    """
    binary = fluidsynth_binary()
    font = soundfont_path(soundfont)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="render-") as tmp:
        mid = Path(tmp) / "piece.mid"
        midi.write(str(mid))
        cmd = [
            binary,
            "-q",
            "-n",
            "-i",
            "-R",
            "1" if reverb else "0",
            "-C",
            "0",
            "-g",
            f"{gain:g}",
            "-r",
            str(sample_rate),
            "-T",
            "wav",
            "-F",
            str(out),
            str(font),
            str(mid),
        ]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=RENDER_TIMEOUT_S)
        except subprocess.TimeoutExpired as exc:
            raise RenderError(f"fluidsynth took longer than {RENDER_TIMEOUT_S:.0f} s") from exc
    if done.returncode != 0 or not out.is_file() or out.stat().st_size <= 44:
        detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise RenderError(f"fluidsynth failed (exit {done.returncode}): {detail[0]}")
    return out
