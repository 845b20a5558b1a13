"""BeatNet's beat and downbeat network (checkpoint 1, "GTZAN out") in numpy, without torch.

BeatNet (M. Heydari, F. Cwitkowitz and Z. Duan, "BeatNet: CRNN and particle filtering for online joint
beat, downbeat and meter tracking", ISMIR 2021; PyPI `BeatNet` 1.1.3, weights under CC BY 4.0) is a
small convolutional-recurrent network. For each 20 ms frame it gives the probability of a beat and of
a downbeat. Only checkpoint 1 is used: BeatNet's own code labels it "GTZAN out", so it was trained
without GTZAN, on which the project is measured. Checkpoints 2 and 3 ("Ballroom out", "Rock corpus
out") have seen GTZAN.

The weights are read at run time from the `BeatNet` wheel, installed without its dependencies
(`pip install --no-deps BeatNet==1.1.3`). A `.pt` file is a zip archive holding a pickled state dict
and one raw little-endian buffer per tensor. `read_checkpoint` unpickles it with an unpickler that
knows only the handful of names such a file uses and builds numpy arrays from the buffers, so
nothing of torch is imported.

Features, as BeatNet's `LOG_SPECT` computes them with madmom's processors (madmom is BSD; the
steps are reimplemented here and `tests/worker/test_beatnet.py` checks them against madmom):
1. 22.05 kHz mono; frames of 1411 samples (64 ms) every 441 samples (20 ms, 50 frames per
   second). Frame i is centred on sample 441 i and zero-padded at the edges; there are
   ceil(n / 441) frames.
2. Magnitude of a 1411-point FFT of the Hann-windowed frame, the first 705 bins. madmom gives bin k
   the frequency k * sr / 1410, and the filterbank uses that.
3. A logarithmic filterbank: 24 bands per octave from 30 Hz to 17 kHz, referenced to A4 = 440 Hz.
   The band frequencies map to their nearest FFT bins and duplicates are dropped. Overlapping
   triangular filters run from one bin to the next but one, each normalised to unit area: 136 bands.
4. log10(1 + x).
5. The positive first difference along time (one frame; madmom's `diff_ratio` 0.5 gives 1 at this
   window and hop), zero for the first frame, stacked after the spectrum: 272 values per frame.

The network (BeatNet's `BDA`): a 1-D convolution over the 272 values (2 channels, kernel 10, ReLU,
max-pooling by 2, giving 262 values), a linear layer to 150, a two-layer unidirectional LSTM with
150 cells, starting from zero state, and a linear layer to 3 classes (beat, downbeat, no beat).
A softmax over the classes gives the activations.

Serving: `Network` is the numpy reference (one Python step per frame in the LSTM). The worker runs
the same weights as an ONNX graph on ONNX Runtime (`runtime()`), with ONNX's own `LSTM` operator,
about seven times cheaper per clip (bench/beats_cost.py). The graph is built from the checkpoint
with onnx.helper on first use and cached under SEVENFOUR_MODEL_CACHE (default VAR_DIR/models, else
var/models beside the code, as worker.backbone.serving caches the genre model), named by a hash of
the checkpoint and of the graph's format, so that a serving process imports only onnxruntime.
`tests/worker/test_beatnet.py` holds the two to each other and to BeatNet's own output.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np

from worker.model_cache import cache_dir

PACKAGE = "BeatNet"
PACKAGE_VERSION = "1.1.3"
CHECKPOINT = "models/model_1_weights.pt"  # "GTZAN out"; never model 2 or 3 (trained on GTZAN)
SAMPLE_RATE = 22_050
FRAME_SIZE = 1411  # int(0.064 * 22050)
HOP_SIZE = 441  # int(0.020 * 22050)
FPS = SAMPLE_RATE / HOP_SIZE  # 50 frames per second
BANDS_PER_OCTAVE = 24
FMIN, FMAX, FREF = 30.0, 17_000.0, 440.0
CONV_KERNEL = 10


class CheckpointError(RuntimeError):
    pass


# -- reading a .pt file without torch ---------------------------------------------------------------

_STORAGE_DTYPES: dict[str, np.dtype[Any]] = {
    "FloatStorage": np.dtype("<f4"),
    "DoubleStorage": np.dtype("<f8"),
    "HalfStorage": np.dtype("<f2"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
}


@dataclass(frozen=True)
class _StorageType:
    dtype: np.dtype[Any]


def _rebuild_tensor(
    storage: np.ndarray, offset: int, size: tuple[int, ...], stride: tuple[int, ...], *_: object
) -> np.ndarray:
    """torch._utils._rebuild_tensor_v2 for a numpy buffer: a strided view, copied."""
    itemsize = storage.dtype.itemsize
    if not size:
        return storage[offset : offset + 1].reshape(()).copy()
    end = offset + 1 + sum((n - 1) * s for n, s in zip(size, stride, strict=True))
    if end > len(storage):
        raise CheckpointError("a tensor reaches past its storage")
    view = np.lib.stride_tricks.as_strided(
        storage[offset:], shape=size, strides=tuple(s * itemsize for s in stride)
    )
    return np.array(view)


class _CheckpointUnpickler(pickle.Unpickler):
    """Unpickles a torch state dict into numpy arrays; refuses every other global."""

    def __init__(self, file: Any, archive: zipfile.ZipFile, prefix: str) -> None:
        super().__init__(file)
        self._archive = archive
        self._prefix = prefix

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(_STORAGE_DTYPES[name])
        raise CheckpointError(f"unexpected object in checkpoint: {module}.{name}")

    def persistent_load(self, pid: Any) -> np.ndarray:
        # ("storage", storage type, key, location, number of elements)
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise CheckpointError(f"unexpected persistent id in checkpoint: {pid!r}")
        _, storage_type, key, _location, count = pid
        if not isinstance(storage_type, _StorageType):
            raise CheckpointError("unexpected storage type in checkpoint")
        raw = self._archive.read(f"{self._prefix}data/{key}")
        data = np.frombuffer(raw, dtype=storage_type.dtype)
        if len(data) != count:
            raise CheckpointError(f"storage {key} holds {len(data)} values, expected {count}")
        return data


def read_checkpoint(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a torch zip checkpoint holding a state dict, as numpy arrays, by name."""
    with zipfile.ZipFile(path) as archive:
        pickles = [name for name in archive.namelist() if name.endswith("/data.pkl")]
        if len(pickles) != 1:
            raise CheckpointError(f"{path}: not a torch zip checkpoint")
        prefix = pickles[0][: -len("data.pkl")]
        with archive.open(pickles[0]) as file:
            state = _CheckpointUnpickler(file, archive, prefix).load()
    if not isinstance(state, dict) or not all(isinstance(v, np.ndarray) for v in state.values()):
        raise CheckpointError(f"{path}: not a state dict of tensors")
    return dict(state)


def checkpoint_path() -> Path:
    """Checkpoint 1 inside the installed BeatNet package (found without importing the package)."""
    spec = find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise CheckpointError(
            f"the {PACKAGE} package is not installed: pip install --no-deps {PACKAGE}=={PACKAGE_VERSION}"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / CHECKPOINT
    if not path.is_file():
        raise CheckpointError(f"{path} is missing from the {PACKAGE} package")
    return path


# -- features ---------------------------------------------------------------------------------------


def frames(samples: np.ndarray) -> np.ndarray:
    """(ceil(n / hop), FRAME_SIZE): frame i centred on sample i * HOP_SIZE, zero-padded."""
    count = int(np.ceil(len(samples) / HOP_SIZE))
    half = FRAME_SIZE // 2
    padded = np.zeros(count * HOP_SIZE + FRAME_SIZE, dtype=np.float32)
    padded[half : half + len(samples)] = samples
    return np.lib.stride_tricks.sliding_window_view(padded, FRAME_SIZE)[::HOP_SIZE][:count]


@cache
def filterbank() -> np.ndarray:
    """(705 FFT bins, 136 bands): madmom's LogarithmicFilterbank(24, 30 Hz, 17 kHz, normalised)."""
    num_bins = FRAME_SIZE >> 1
    bin_hz = np.fft.fftfreq(num_bins * 2, 1.0 / SAMPLE_RATE)[:num_bins]
    left = np.floor(np.log2(FMIN / FREF) * BANDS_PER_OCTAVE)
    right = np.ceil(np.log2(FMAX / FREF) * BANDS_PER_OCTAVE)
    band_hz = FREF * 2.0 ** (np.arange(left, right) / BANDS_PER_OCTAVE)
    band_hz = band_hz[np.searchsorted(band_hz, FMIN) :]
    band_hz = band_hz[: np.searchsorted(band_hz, FMAX, "right")]
    # nearest bin of each band frequency, ties to the lower bin
    index = np.clip(bin_hz.searchsorted(band_hz), 1, num_bins - 1)
    index -= band_hz - bin_hz[index - 1] < bin_hz[index] - band_hz
    bins = np.unique(index)
    bank = np.zeros((num_bins, len(bins) - 2), dtype=np.float32)
    for band, (start, centre, stop) in enumerate(zip(bins[:-2], bins[1:-1], bins[2:], strict=True)):
        if stop - start < 2:
            centre, stop = start, start + 1
        shape = np.zeros(stop - start, dtype=np.float32)
        shape[: centre - start] = np.linspace(0, 1, centre - start, endpoint=False)
        shape[centre - start :] = np.linspace(1, 0, stop - centre, endpoint=False)
        shape /= shape.sum()
        bank[start:stop, band] = np.maximum(bank[start:stop, band], shape[: max(0, num_bins - start)])
    return bank


@cache
def _sparse_filterbank() -> Any:
    """The filterbank as a scipy sparse matrix: each bin feeds at most two bands (1257 of 95880
    values are not zero), so the product costs a quarter of the dense one."""
    import scipy.sparse

    return scipy.sparse.csc_matrix(filterbank())


FEATURE_BLOCK = 200  # frames per FFT batch: 1.1 MB of windowed frames stay in cache


def features(samples: np.ndarray) -> np.ndarray:
    """(frames, 272) float32: the log filtered spectrum and its positive difference, per 20 ms.

    The frames are windowed, transformed and filtered FEATURE_BLOCK at a time: the same values as
    one batch of the whole clip, for about two thirds of the time (no 25 MB of temporaries)."""
    import scipy.fft

    framed = frames(np.asarray(samples, dtype=np.float32))
    window = np.hanning(FRAME_SIZE).astype(np.float32)
    bank = _sparse_filterbank()
    log = np.empty((len(framed), bank.shape[1]), dtype=np.float32)
    buffer = np.empty((FEATURE_BLOCK, FRAME_SIZE), dtype=np.float32)
    for start in range(0, len(framed), FEATURE_BLOCK):
        block = framed[start : start + FEATURE_BLOCK]
        windowed = np.multiply(block, window, out=buffer[: len(block)])
        spectrum = np.abs(scipy.fft.rfft(windowed, axis=1)[:, : FRAME_SIZE >> 1])
        log[start : start + len(block)] = np.asarray(spectrum @ bank)
    np.log10(log + 1.0, out=log)
    diff = np.zeros_like(log)
    diff[1:] = np.maximum(log[1:] - log[:-1], 0.0)
    return np.hstack([log, diff])


# -- the network ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Network:
    conv_weight: np.ndarray  # (2, CONV_KERNEL)
    conv_bias: np.ndarray  # (2,)
    linear0_weight: np.ndarray  # (150, 262)
    linear0_bias: np.ndarray  # (150,)
    lstm: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]  # per layer: W_ih, W_hh, b_ih + b_hh
    out_weight: np.ndarray  # (3, 150)
    out_bias: np.ndarray  # (3,)

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray]) -> Network:
        def get(name: str) -> np.ndarray:
            if name not in state:
                raise CheckpointError(f"the checkpoint has no {name}")
            return np.asarray(state[name], dtype=np.float32)

        layers = []
        for layer in range(2):
            suffix = f"_l{layer}"
            layers.append(
                (
                    get("lstm.weight_ih" + suffix),
                    get("lstm.weight_hh" + suffix),
                    get("lstm.bias_ih" + suffix) + get("lstm.bias_hh" + suffix),
                )
            )
        return cls(
            conv_weight=get("conv1.weight").reshape(2, CONV_KERNEL),
            conv_bias=get("conv1.bias"),
            linear0_weight=get("linear0.weight"),
            linear0_bias=get("linear0.bias"),
            lstm=tuple(layers),
            out_weight=get("linear.weight"),
            out_bias=get("linear.bias"),
        )

    def embed(self, feats: np.ndarray) -> np.ndarray:
        """Convolution, ReLU, max-pooling by 2 and the first linear layer: (frames, 150)."""
        width = feats.shape[1] - CONV_KERNEL + 1  # 263
        conv = np.empty((len(feats), 2, width), dtype=np.float32)
        for channel in range(2):
            # a sum of shifted copies: cheaper than a strided einsum at this size
            acc = np.full((len(feats), width), self.conv_bias[channel], dtype=np.float32)
            for k in range(CONV_KERNEL):
                acc += self.conv_weight[channel, k] * feats[:, k : k + width]
            conv[:, channel] = acc
        # ReLU after max-pooling by 2: the two commute, and pooling first halves the work
        pooled_len = width // 2
        pooled = np.maximum(conv[:, :, 0 : 2 * pooled_len : 2], conv[:, :, 1 : 2 * pooled_len : 2])
        np.maximum(pooled, 0.0, out=pooled)
        return pooled.reshape(len(feats), -1) @ self.linear0_weight.T + self.linear0_bias

    def logits(self, feats: np.ndarray) -> np.ndarray:
        """(frames, 3) class scores for beat, downbeat and no beat."""
        x = self.embed(np.asarray(feats, dtype=np.float32))
        for w_ih, w_hh, bias in self.lstm:
            x = _lstm_layer(x @ w_ih.T + bias, w_hh)
        return x @ self.out_weight.T + self.out_bias

    def activations(self, feats: np.ndarray) -> np.ndarray:
        """(frames, 2): the probability of a beat and of a downbeat in each frame."""
        if len(feats) == 0:
            return np.zeros((0, 2), dtype=np.float32)
        scores = self.logits(feats)
        scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        return (scores / scores.sum(axis=1, keepdims=True))[:, :2].astype(np.float32)


def _lstm_layer(gates_in: np.ndarray, w_hh: np.ndarray) -> np.ndarray:
    """One unidirectional LSTM layer from zero state; gates in torch's order (input, forget, cell,
    output). `gates_in` is the input projection plus both biases, (frames, 4 * cells)."""
    cells = w_hh.shape[1]
    w_hh_t = np.ascontiguousarray(w_hh.T)
    h = np.zeros(cells, dtype=np.float32)
    c = np.zeros(cells, dtype=np.float32)
    out = np.empty((len(gates_in), cells), dtype=np.float32)
    # sigmoid(x) = 0.5 * tanh(x / 2) + 0.5: one tanh over all four gates, the cell gate unhalved
    scale = np.full(4 * cells, 0.5, dtype=np.float32)
    scale[2 * cells : 3 * cells] = 1.0
    gates_in = gates_in * scale
    w_hh_t = w_hh_t * scale
    for t in range(len(gates_in)):
        g = np.tanh(gates_in[t] + h @ w_hh_t)
        i = 0.5 * g[:cells] + 0.5
        f = 0.5 * g[cells : 2 * cells] + 0.5
        o = 0.5 * g[3 * cells :] + 0.5
        c = f * c + i * g[2 * cells : 3 * cells]
        h = o * np.tanh(c)
        out[t] = h
    return out


@cache
def network() -> Network:
    """Checkpoint 1 from the installed BeatNet package, read once per process (the numpy reference)."""
    return Network.from_state(read_checkpoint(checkpoint_path()))


# -- serving on ONNX Runtime ------------------------------------------------------------------------

# Bump when onnx_model changes what the graph computes: a new format gives a new cached file.
ONNX_FORMAT = "beatnet-onnx-1"
ONNX_OPSET = 17


def _onnx_gates(weight: np.ndarray) -> np.ndarray:
    """torch's LSTM gate blocks (input, forget, cell, output) in ONNX's order (input, output,
    forget, cell), along the first axis."""
    i, f, g, o = np.split(weight, 4, axis=0)
    return np.concatenate([i, o, f, g], axis=0)


def onnx_model(net: Network) -> Any:
    """The network as an ONNX graph (an onnx.ModelProto): "features" (frames, 272) in, "probs"
    (frames, 3) out, the softmax over beat, downbeat and no beat.

    Reshape to (frames, 1, 272), Conv, Relu, MaxPool by 2, flatten to (frames, 262), Gemm to 150,
    then each LSTM layer over the frames as one sequence of batch 1 (its bias is W_b + R_b; the
    numpy reference holds their sum, so R_b is zero here), and the output Gemm and Softmax.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weights: list[Any] = []

    def const(name: str, value: np.ndarray) -> str:
        weights.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    cells = net.lstm[0][1].shape[1]
    sequence = const("sequence_shape", np.array([-1, 1, net.linear0_weight.shape[0]], dtype=np.int64))
    nodes = [
        helper.make_node(
            "Reshape", ["features", const("column_shape", np.array([-1, 1, 272], dtype=np.int64))], ["x"]
        ),
        helper.make_node(
            "Conv",
            [
                "x",
                const("conv_w", net.conv_weight.reshape(2, 1, CONV_KERNEL)),
                const("conv_b", net.conv_bias),
            ],
            ["conv"],
        ),
        helper.make_node("Relu", ["conv"], ["relu"]),
        helper.make_node("MaxPool", ["relu"], ["pooled"], kernel_shape=[2], strides=[2]),
        helper.make_node(
            "Reshape",
            ["pooled", const("flat_shape", np.array([-1, net.linear0_weight.shape[1]], dtype=np.int64))],
            ["flat"],
        ),
        helper.make_node(
            "Gemm",
            ["flat", const("linear0_w", net.linear0_weight), const("linear0_b", net.linear0_bias)],
            ["embedded"],
            transB=1,
        ),
        helper.make_node("Reshape", ["embedded", sequence], ["lstm_in0"]),
    ]
    for layer, (w_ih, w_hh, bias) in enumerate(net.lstm):
        b = np.concatenate([_onnx_gates(bias), np.zeros_like(bias)])
        inputs = [
            f"lstm_in{layer}",
            const(f"lstm_w{layer}", _onnx_gates(w_ih)[None]),
            const(f"lstm_r{layer}", _onnx_gates(w_hh)[None]),
            const(f"lstm_b{layer}", b[None]),
        ]
        # Y is (frames, directions 1, batch 1, cells): the next layer's (frames, batch 1, cells)
        nodes.append(helper.make_node("LSTM", inputs, [f"lstm_y{layer}"], hidden_size=cells))
        nodes.append(helper.make_node("Reshape", [f"lstm_y{layer}", sequence], [f"lstm_in{layer + 1}"]))
    hidden_shape = const("hidden_shape", np.array([-1, cells], dtype=np.int64))
    nodes += [
        helper.make_node("Reshape", [f"lstm_in{len(net.lstm)}", hidden_shape], ["hidden"]),
        helper.make_node(
            "Gemm",
            ["hidden", const("out_w", net.out_weight), const("out_b", net.out_bias)],
            ["logits"],
            transB=1,
        ),
        helper.make_node("Softmax", ["logits"], ["probs"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "beatnet_checkpoint_1",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["frames", 272])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["frames", 3])],
        weights,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", ONNX_OPSET)])
    onnx.checker.check_model(model)
    return model


@cache
def onnx_path() -> Path:
    """Where the graph is cached: named by the checkpoint's SHA-256 and the format."""
    digest = hashlib.sha256(ONNX_FORMAT.encode())
    digest.update(checkpoint_path().read_bytes())
    return cache_dir() / f"beatnet-1-{digest.hexdigest()[:16]}.onnx"


def ensure_onnx() -> Path:
    """The cached graph, built first if missing. Two processes building at once write the same
    bytes, each to its own file, then rename it into place."""
    path = onnx_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        partial.write_bytes(onnx_model(network()).SerializeToString())
        os.replace(partial, path)
    return path


class OnnxNetwork:
    """The network on ONNX Runtime's CPU provider, one thread (the worker runs one clip at a time
    and other processes share the cores)."""

    def __init__(self, path: Path) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def activations(self, feats: np.ndarray) -> np.ndarray:
        """(frames, 2): the probability of a beat and of a downbeat in each frame."""
        if len(feats) == 0:
            return np.zeros((0, 2), dtype=np.float32)
        (probs,) = self._session.run(["probs"], {"features": np.asarray(feats, dtype=np.float32)})
        return np.ascontiguousarray(probs[:, :2], dtype=np.float32)


@cache
def runtime() -> OnnxNetwork:
    """The serving network, loaded once per process."""
    return OnnxNetwork(ensure_onnx())


def activations(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """(frames at 50 per second, 2): beat and downbeat probabilities of a mono clip."""
    if sample_rate != SAMPLE_RATE:
        from scipy.signal import resample_poly

        divisor = np.gcd(SAMPLE_RATE, sample_rate)
        samples = resample_poly(samples, SAMPLE_RATE // divisor, sample_rate // divisor)
    return runtime().activations(features(samples))
