"""The mel-spectrogram the model saw: saved compactly on the ML path, drawn as a PNG elsewhere.

The ML job only calls `save_mel` (numpy, about a millisecond); an I/O worker reads that file
(`load_mel`) and draws it (`render_db_png`), so ML worker processes import neither Pillow nor matplotlib. The picture is drawn with
Pillow: the axes, their labels and the colour bar once per process (with the imports, about 110 ms
for the first picture), then per picture the image, the time axis and the PNG: about 13 ms, 9 of them
compressing. matplotlib only lends its "magma" colours, its DejaVu Sans font and its tick spacing:
drawing the figure with it took about 80 ms a picture, most of it laying out text, and a fresh process
peaked at 175 MiB after one picture (it imported librosa for the band frequencies) against 60 now.
"""

from __future__ import annotations

import zipfile
import zlib
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, NamedTuple

import numpy as np

from worker.audio.features import HOP_LENGTH, SAMPLE_RATE

if TYPE_CHECKING:
    from PIL import Image, ImageDraw, ImageFont

# Frequencies labelled on the mel axis.
_TICKS_HZ = (0, 256, 512, 1024, 2048, 4096, 8000)
# The picture shows 80 dB below the loudest bin; quieter is drawn as the floor.
TOP_DB = 80.0
_AMIN = 1e-10  # librosa.power_to_db's floor on power


class SavedMel(NamedTuple):
    db: np.ndarray  # (frames, mels) float32, dB relative to the loudest bin, in [-TOP_DB, 0]
    start_s: float  # where the excerpt starts in the source, for the time axis


def mel_db(mel_power: np.ndarray) -> np.ndarray:
    """(frames, mels) power → dB relative to the loudest bin, floored at -TOP_DB (librosa's
    power_to_db(ref=np.max, top_db=TOP_DB), in numpy so that the ML path needs nothing more)."""
    db = 10.0 * np.log10(np.maximum(mel_power.astype(np.float32), _AMIN))
    db -= db.max()
    return np.maximum(db, -TOP_DB)


def save_mel(mel_power: np.ndarray, path: str | Path, *, start_s: float = 0.0) -> Path:
    """Write the mel in dB as float16 (.npz) with the excerpt's start: about 350 KiB for 30 s.

    float16 keeps about 0.03 dB at -80 dB, finer than the 256 colours of the picture. Not
    compressed: zlib saves only a quarter and costs ~10 ms on the ML path, for a file that lives
    until the I/O worker has drawn it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        np.savez(fh, db=mel_db(mel_power).astype(np.float16), start_s=np.float64(start_s))
    return path


def load_mel(source: str | Path | BinaryIO) -> SavedMel:
    """Read what `save_mel` wrote (a path or an open binary file). Anything else raises ValueError."""
    try:
        data = np.load(source, allow_pickle=False)
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as exc:
        raise ValueError(f"not a saved mel-spectrogram: {exc}") from exc
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ValueError("not a saved mel-spectrogram: a bare array")
    with data:
        try:
            db, start_s = data["db"], float(data["start_s"])
        except (KeyError, ValueError, TypeError, zipfile.BadZipFile) as exc:
            raise ValueError(f"not a saved mel-spectrogram: {exc}") from exc
    if db.ndim != 2 or db.shape[0] == 0 or db.shape[1] == 0:
        raise ValueError(f"not a saved mel-spectrogram: shape {db.shape}")
    return SavedMel(db.astype(np.float32), start_s)


def render_png(
    mel_power: np.ndarray, path: str | Path, *, sample_rate: int = SAMPLE_RATE, start_s: float = 0.0
) -> Path:
    """Write `mel_power` (frames, mels) as a PNG: time in seconds of the source, frequency in Hz."""
    return render_db_png(mel_db(mel_power), path, sample_rate=sample_rate, start_s=start_s)


def render_db_png(
    db: np.ndarray, path: str | Path, *, sample_rate: int = SAMPLE_RATE, start_s: float = 0.0
) -> Path:
    """Write `db` (frames, mels; see mel_db) as a PNG: time in seconds of the source, frequency in Hz."""
    from PIL import Image, ImageDraw

    frames, n_mels = db.shape
    left, top, right, bottom = _PLOT
    # Nearest neighbour: the frame and the band under each pixel's centre, the highest band on top.
    columns = ((np.arange(right - left) + 0.5) * (frames / (right - left))).astype(np.intp)
    rows = ((np.arange(bottom - top)[::-1] + 0.5) * (n_mels / (bottom - top))).astype(np.intp)
    pixels = _frame(n_mels, sample_rate).copy()
    pixels[top:bottom, left:right] = _magma()[_colour_index(db[np.ix_(columns, rows)].T)]
    canvas = Image.fromarray(pixels)
    end_s = start_s + frames * HOP_LENGTH / sample_rate
    _time_axis(ImageDraw.Draw(canvas), start_s, end_s)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # zlib's Z_RLE strategy (matches at distance one only, "designed to be almost as fast as
    # Z_HUFFMAN_ONLY, but give better compression for PNG image data", zlib's manual): half the
    # encoding time of the default for a 7 % larger file. compress_type is Pillow's name for it.
    canvas.save(path, format="png", compress_type=zlib.Z_RLE)
    return path


# The layout matplotlib drew: a 10 x 4 in figure at 100 dpi, the image in the axes at (0.08, 0.13,
# 0.80, 0.78) of it and the colour bar at (0.90, 0.13, 0.015, 0.78). Boxes in pixels: left, top,
# right, bottom (exclusive); the frame is the one-pixel line just outside them.
_SIZE = (1000, 400)
_PLOT = (80, 36, 880, 348)
_COLOUR_BAR = (900, 36, 915, 348)
_PX_PER_PT = 100 / 72
_FONT_PX = 10 * _PX_PER_PT  # matplotlib's default text size, 10 pt
_TITLE_PX = 12 * _PX_PER_PT  # its "large" title
_TICK = round(3.5 * _PX_PER_PT)  # a tick's length, and the gap from its end to its label
_LABEL_GAP = round(4 * _PX_PER_PT)  # from the tick labels to the axis label
_TITLE_GAP = round(6 * _PX_PER_PT)  # from the frame to the title's baseline
_BLACK = (0, 0, 0)


def mel_band_hz(n_mels: int, sample_rate: int) -> np.ndarray:
    """The centre frequency of each of `n_mels` mel filters from 0 Hz to sample_rate / 2:
    librosa.mel_frequencies(n_mels + 2, fmin=0, fmax=sample_rate / 2)[1:-1], without librosa.

    Slaney's mel scale, librosa's default (Slaney 1998, Auditory Toolbox, Interval Research
    technical report 1998-010): linear at 200/3 Hz a mel up to 1 kHz, logarithmic above it."""
    hz_per_mel, knee_hz = 200.0 / 3.0, 1000.0
    knee_mel, log_step = knee_hz / hz_per_mel, np.log(6.4) / 27.0
    nyquist = sample_rate / 2
    top_mel = nyquist / hz_per_mel if nyquist < knee_hz else knee_mel + np.log(nyquist / knee_hz) / log_step
    mels = np.linspace(0.0, top_mel, n_mels + 2)[1:-1]
    return np.where(mels < knee_mel, mels * hz_per_mel, knee_hz * np.exp(log_step * (mels - knee_mel)))


def _colour_index(db: np.ndarray) -> np.ndarray:
    """dB in [-TOP_DB, 0] → the index of its colour among 256, as matplotlib's Normalize and
    Colormap do it (0 dB is the last colour; quieter than -TOP_DB, or NaN, is the first)."""
    scaled = (np.nan_to_num(db, nan=-TOP_DB) + TOP_DB) * (256 / TOP_DB)
    return np.clip(scaled, 0, 255).astype(np.uint8)


@cache
def _magma() -> np.ndarray:
    """matplotlib's "magma" as a (256, 3) uint8 lookup table."""
    import matplotlib

    rgba: np.ndarray = matplotlib.colormaps["magma"](np.arange(256), bytes=True)
    return np.ascontiguousarray(rgba[:, :3])


@cache
def _font(size_px: float) -> ImageFont.FreeTypeFont:
    """DejaVu Sans, the font matplotlib ships and draws with by default."""
    import matplotlib
    from PIL import ImageFont

    ttf = Path(matplotlib.get_data_path(), "fonts", "ttf", "DejaVuSans.ttf")
    return ImageFont.truetype(str(ttf), size_px, layout_engine=ImageFont.Layout.BASIC)


def _ticks(low: float, high: float) -> np.ndarray:
    """At most 10 round values in [low, high], steps of 1, 2, 2.5 or 5 times a power of ten
    (matplotlib's default tick locator)."""
    from matplotlib.ticker import MaxNLocator

    ticks = np.asarray(MaxNLocator(nbins=9, steps=[1, 2, 2.5, 5, 10]).tick_values(low, high), float)
    slack = 1e-9 * max(1.0, high - low)
    return ticks[(ticks >= low - slack) & (ticks <= high + slack)]


def _tick_labels(values: np.ndarray) -> list[str]:
    """Plain numbers, all with the fewest decimals that show each of them (0 to 3)."""
    decimals = next((d for d in range(3) if np.allclose(values, np.round(values, d), rtol=0, atol=1e-6)), 3)
    return [f"{value:.{decimals}f}" for value in values]


def _x_pixel(box: tuple[int, int, int, int], fraction: float) -> int:
    """The column at `fraction` of the box's width: its frame at 0 and 1."""
    return box[0] - 1 + round(fraction * (box[2] - box[0] + 1))


def _y_pixel(box: tuple[int, int, int, int], fraction: float) -> int:
    """The row at `fraction` of the box's height from the bottom: its frame at 0 and 1."""
    return box[3] - round(fraction * (box[3] - box[1] + 1))


def _digit_height(font: ImageFont.FreeTypeFont) -> int:
    """Pixels from the baseline to the top of a digit: labels are centred on their tick by it."""
    return -int(font.getbbox("0", anchor="ls")[1])


def _time_axis(draw: ImageDraw.ImageDraw, start_s: float, end_s: float) -> None:
    """Ticks and their labels under the image, in seconds of the source."""
    font = _font(_FONT_PX)
    bottom = _PLOT[3]
    baseline = bottom + 2 * _TICK + _digit_height(font)
    ticks = _ticks(start_s, end_s)
    for value, label in zip(ticks, _tick_labels(ticks), strict=True):
        x = _x_pixel(_PLOT, (value - start_s) / (end_s - start_s))
        draw.line(((x, bottom + 1), (x, bottom + _TICK)), fill=_BLACK)
        draw.text((x, baseline), label, fill=_BLACK, font=font, anchor="ms")


@lru_cache(maxsize=4)
def _frame(n_mels: int, sample_rate: int) -> np.ndarray:
    """(height, width, 3) uint8: the picture without the image and the time ticks, which depend
    on the clip. The frequency ticks depend only on the number of bands and the sample rate."""
    from PIL import Image, ImageDraw

    canvas = Image.new("RGB", _SIZE, "white")
    draw = ImageDraw.Draw(canvas)
    font = _font(_FONT_PX)
    half_digit = _digit_height(font) / 2
    left, top, right, bottom = _PLOT
    draw.rectangle((left - 1, top - 1, right, bottom), outline=_BLACK)
    draw.text(
        ((left + right) / 2, top - 1 - _TITLE_GAP),
        "Mel spectrogram",
        fill=_BLACK,
        font=_font(_TITLE_PX),
        anchor="ms",
    )

    # Frequency: the tick of each labelled frequency at its place among the bands' centres.
    band_hz = mel_band_hz(n_mels, sample_rate)
    ticks_hz = [hz for hz in _TICKS_HZ if hz <= band_hz[-1]]
    label_right = left - 1 - 2 * _TICK
    for hz, band in zip(ticks_hz, np.interp(ticks_hz, band_hz, np.arange(n_mels)), strict=True):
        y = _y_pixel(_PLOT, (band + 0.5) / n_mels)
        draw.line(((left - 1 - _TICK, y), (left - 2, y)), fill=_BLACK)
        draw.text((label_right, y + half_digit), str(hz), fill=_BLACK, font=font, anchor="rs")
    widest = max((font.getlength(str(hz)) for hz in ticks_hz), default=0.0)
    _vertical_text(
        canvas,
        "Frequency (Hz)",
        font,
        right=round(label_right - widest) - _LABEL_GAP,
        middle=(top + bottom) // 2,
    )

    # Time: the label under the tick labels, which each picture draws (see _time_axis).
    descent = font.getmetrics()[1]
    draw.text(
        ((left + right) / 2, bottom + 2 * _TICK + _digit_height(font) + descent + _LABEL_GAP),
        "Time (s)",
        fill=_BLACK,
        font=font,
        anchor="ma",
    )

    # The colour bar: the colours from -TOP_DB at the bottom to 0 dB at the top, ticked in dB.
    bar_left, bar_top, bar_right, bar_bottom = _COLOUR_BAR
    height = bar_bottom - bar_top
    levels = -TOP_DB * (np.arange(height) + 0.5) / height  # each row's centre, top row first
    strip = np.repeat(_magma()[_colour_index(levels)][:, None, :], bar_right - bar_left, axis=1)
    canvas.paste(Image.fromarray(strip), (bar_left, bar_top))
    draw.rectangle((bar_left - 1, bar_top - 1, bar_right, bar_bottom), outline=_BLACK)
    for value in _ticks(-TOP_DB, 0.0):
        y = _y_pixel(_COLOUR_BAR, (value + TOP_DB) / TOP_DB)
        draw.line(((bar_right + 1, y), (bar_right + _TICK, y)), fill=_BLACK)
        draw.text(
            (bar_right + 1 + 2 * _TICK, y + half_digit),
            f"{value:+2.0f} dB",
            fill=_BLACK,
            font=font,
            anchor="ls",
        )
    frame = np.asarray(canvas)
    frame.flags.writeable = False  # shared by every picture: each draws on a copy
    return frame


def _vertical_text(
    canvas: Image.Image, text: str, font: ImageFont.FreeTypeFont, *, right: int, middle: int
) -> None:
    """`text` in black reading upwards, its right edge at `right`, centred on row `middle`."""
    from PIL import Image, ImageDraw

    x0, y0, x1, y1 = (round(edge) for edge in font.getbbox(text, anchor="ls"))
    mask = Image.new("L", (x1 - x0, y1 - y0))
    ImageDraw.Draw(mask).text((-x0, -y0), text, fill=255, font=font, anchor="ls")
    mask = mask.transpose(Image.Transpose.ROTATE_90)
    canvas.paste(_BLACK, (right - mask.width, middle - mask.height // 2), mask)
