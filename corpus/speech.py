"""Generated speech with the espeak-ng command-line synthesiser: audio that is not music, for the
musicness detector's tests and benchmark (worker.musicness, bench/musicness.py).

espeak-ng runs as a subprocess (`espeak-ng -w out.wav`), as FluidSynth does in corpus.render; it is
Debian's espeak-ng package.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

SPEECH_TIMEOUT_S = 60.0

# Public-domain prose (the opening of Jerome K. Jerome's "Three Men in a Boat", 1889), long enough
# for 30 s at espeak-ng's default rate.
TEXT = (
    "There were four of us: George, and William Samuel Harris, and myself, and Montmorency. "
    "We were sitting in my room, smoking, and talking about how bad we were, bad from a medical "
    "point of view I mean, of course. We were all feeling seedy, and we were getting quite nervous "
    "about it. Harris said he felt such extraordinary fits of giddiness come over him at times, "
    "that he hardly knew what he was doing; and then George said that he had fits of giddiness too, "
    "and hardly knew what he was doing. With me, it was my liver that was out of order. I knew it "
    "was my liver that was out of order, because I had just been reading a patent liver-pill "
    "circular, in which were detailed the various symptoms by which a man could tell when his liver "
    "was out of order."
)


class SpeechError(Exception):
    """The speech could not be generated; str() says why."""


def espeak_binary() -> str:
    binary = shutil.which("espeak-ng")
    if binary is None:
        raise SpeechError("the espeak-ng program is not installed (Debian package: espeak-ng).")
    return binary


def speak_wav(
    out_path: str | Path, *, text: str = TEXT, voice: str = "en", words_per_minute: int = 160, pitch: int = 50
) -> Path:
    """Write `text` read by espeak-ng's `voice` (e.g. "en", "en-us", "en+f3", "de") as a WAV."""
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [espeak_binary(), "-v", voice, "-s", str(words_per_minute), "-p", str(pitch), "-w", str(out), text]
    try:
        subprocess.run(cmd, check=True, capture_output=True, timeout=SPEECH_TIMEOUT_S)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        raise SpeechError(f"espeak-ng failed: {exc}") from exc
    return out
