"""musicnn (MSD and MTT taggers) re-implemented in plain TensorFlow 2, weights from the musicnn wheel.

musicnn is by Jordi Pons and Xavier Serra (Music Technology Group, Universitat Pompeu Fabra) and is
distributed under the ISC licence. Its notice, verbatim from the wheel's LICENSE.md:

    Copyright (c) Music Technology Group, Universitat Pompeu Fabra 2019. Code developed by Jordi Pons
    (www.jordipons.me).

    Permission to use, copy, modify, and/or distribute this software for any purpose with or without
    fee is hereby granted, provided that the above copyright notice and this permission notice appear
    in all copies.

    THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES WITH REGARD TO THIS
    SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE
    AUTHOR BE LIABLE FOR ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
    WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN ACTION OF CONTRACT,
    NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF OR IN CONNECTION WITH THE USE OR PERFORMANCE
    OF THIS SOFTWARE.

The wheel's Python code needs TF1 and Keras 2, so only its checkpoint files are used: `musicnn` is
never imported. The network below follows the published architecture layer by layer; a test checks
it against the wheel's own TF1 graph. TensorFlow is imported inside functions so that importing this
module stays cheap (Celery's prefork parent must not hold TensorFlow).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np

MODELS = ("MSD_musicnn", "MTT_musicnn")
BN_EPSILON = 1e-3

MSD_TAGS = (
    "rock", "pop", "alternative", "indie", "electronic", "female vocalists", "dance", "00s",
    "alternative rock", "jazz", "beautiful", "metal", "chillout", "male vocalists", "classic rock", "soul",
    "indie rock", "Mellow", "electronica", "80s", "folk", "90s", "chill", "instrumental", "punk", "oldies",
    "blues", "hard rock", "ambient", "acoustic", "experimental", "female vocalist", "guitar", "Hip-Hop",
    "70s", "party", "country", "easy listening", "sexy", "catchy", "funk", "electro", "heavy metal",
    "Progressive rock", "60s", "rnb", "indie pop", "sad", "House", "happy",
)  # fmt: skip
MTT_TAGS = (
    "guitar", "classical", "slow", "techno", "strings", "drums", "electronic", "rock", "fast", "piano",
    "ambient", "beat", "violin", "vocal", "synth", "female", "indian", "opera", "male", "singing",
    "vocals", "no vocals", "harpsichord", "loud", "quiet", "flute", "woman", "male vocal", "no vocal",
    "pop", "soft", "sitar", "solo", "man", "classic", "choir", "voice", "new age", "dance", "male voice",
    "female vocal", "beats", "harp", "cello", "no voice", "weird", "country", "metal", "female voice",
    "choral",
)  # fmt: skip
TAGS = {"MSD_musicnn": MSD_TAGS, "MTT_musicnn": MTT_TAGS}


@dataclass(frozen=True)
class BackboneOutput:
    """Clip-level outputs: the mean over patches, as musicnn reports them."""

    msd: np.ndarray  # (50,) tag probabilities, MSD_TAGS order
    mtt: np.ndarray  # (50,) tag probabilities, MTT_TAGS order
    embedding: np.ndarray  # (400,) MSD then MTT penultimate layer (after its batch norm)
    patch_embeddings: np.ndarray  # (n, 400)


def checkpoint_prefix(model: str) -> str:
    """The checkpoint prefix inside the installed wheel. Its basename is empty, hence the trailing '/'."""
    if model not in MODELS:
        raise ValueError(f"unknown musicnn model {model!r}")
    return str(Path(str(files("musicnn"))) / model) + "/"


def load_weights(model: str) -> dict[str, np.ndarray]:
    """Trained variables by name, without the optimizer's slots."""
    import tensorflow as tf

    # tf.train.load_checkpoint() follows the `checkpoint` file, which names the author's home folder;
    # the reader with an explicit prefix does not.
    reader = tf.compat.v1.train.NewCheckpointReader(checkpoint_prefix(model))
    names = reader.get_variable_to_shape_map()
    return {
        name: reader.get_tensor(name).astype(np.float32)
        for name in names
        if "Adam" not in name and not name.startswith("beta")
    }


def _bn(tf: Any, x: Any, w: dict[str, Any], name: str) -> Any:
    return tf.nn.batch_normalization(
        x, w[f"{name}/moving_mean"], w[f"{name}/moving_variance"], w[f"{name}/beta"], w[f"{name}/gamma"],
        BN_EPSILON,
    )  # fmt: skip


def _conv(tf: Any, x: Any, w: dict[str, Any], conv: str, padding: str) -> Any:
    """A convolution in the kernel's dtype (float32, or bfloat16 for speed), returned as float32."""
    kernel = w[f"{conv}/kernel"]
    y = tf.nn.conv2d(tf.cast(x, kernel.dtype), kernel, 1, padding)
    return tf.cast(y, tf.float32) + w[f"{conv}/bias"]


FRONTEND = (
    ("conv2d", "batch_normalization_1"),
    ("conv2d_1", "batch_normalization_2"),
    ("conv2d_2", "batch_normalization_3"),
    ("conv2d_3", "batch_normalization_4"),
    ("conv2d_4", "batch_normalization_5"),
)


def fold_frontend_signs(weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Prepare the front-end so that one max over frequency replaces ReLU, batch norm and max.

    Inference batch norm is a per-channel affine map with slope s = gamma / sqrt(var + eps), and ReLU
    is monotonic, so max_f BN(ReLU(z)) = BN(ReLU(max_f z)) where s > 0 and BN(ReLU(min_f z)) where
    s < 0. Flipping the sign of the kernels with s < 0 turns that min into a max. Reducing first skips
    the element-wise passes over the largest tensors of the network (a third of its run time).
    """
    out = dict(weights)
    for conv, bn in FRONTEND:
        slope = weights[f"{bn}/gamma"] / np.sqrt(weights[f"{bn}/moving_variance"] + BN_EPSILON)
        sign = np.where(slope < 0, -1.0, 1.0).astype(np.float32)
        out[f"{conv}/kernel"] = weights[f"{conv}/kernel"] * sign
        out[f"{conv}/sign"] = sign
    return out


def _conv_block(tf: Any, x: Any, w: dict[str, Any], conv: str, bn: str, padding: str) -> Any:
    """conv -> ReLU -> batch norm -> max over frequency, (B, T, F, 1) -> (B, T, filters), reduced first
    (see fold_frontend_signs)."""
    kernel = w[f"{conv}/kernel"]
    z = tf.nn.conv2d(tf.cast(x, kernel.dtype), kernel, 1, padding)
    extreme = tf.cast(tf.reduce_max(z, axis=2), tf.float32) * w[f"{conv}/sign"] + w[f"{conv}/bias"]
    return _bn(tf, tf.nn.relu(extreme), w, bn)


def _pad_time(tf: Any, x: Any) -> Any:
    return tf.pad(x, [[0, 0], [3, 3], [0, 0], [0, 0]])


def _midend_block(tf: Any, x: Any, w: dict[str, Any], conv: str, bn: str) -> Any:
    """A [7, C] convolution over (B, T, C): the original's conv over a (T, C, 1) image, transposed back."""
    y = _conv(tf, _pad_time(tf, x[..., tf.newaxis]), w, conv, "VALID")
    return _bn(tf, tf.nn.relu(y), w, bn)[:, :, 0, :]


def forward(tf: Any, w: dict[str, Any], x: Any) -> tuple[Any, Any]:
    """One musicnn: x (B, T, 96) log-mel -> (sigmoid tag probabilities (B, 50), penultimate (B, 200))."""
    x = _bn(tf, x[..., tf.newaxis], w, "batch_normalization")
    padded = _pad_time(tf, x)
    front = [
        _conv_block(tf, padded, w, "conv2d", "batch_normalization_1", "VALID"),  # timbral [7, 38]
        _conv_block(tf, padded, w, "conv2d_1", "batch_normalization_2", "VALID"),  # timbral [7, 67]
        _conv_block(tf, x, w, "conv2d_2", "batch_normalization_3", "SAME"),  # temporal [128, 1]
        _conv_block(tf, x, w, "conv2d_3", "batch_normalization_4", "SAME"),  # temporal [64, 1]
        _conv_block(tf, x, w, "conv2d_4", "batch_normalization_5", "SAME"),  # temporal [32, 1]
    ]
    frontend = tf.concat(front, axis=2)  # (B, T, 561)
    mid1 = _midend_block(tf, frontend, w, "conv2d_5", "batch_normalization_6")
    mid2 = _midend_block(tf, mid1, w, "conv2d_6", "batch_normalization_7") + mid1
    mid3 = _midend_block(tf, mid2, w, "conv2d_7", "batch_normalization_8") + mid2
    features = tf.concat([frontend, mid1, mid2, mid3], axis=2)  # (B, T, 753)
    # The original concatenates (B, 753, 1) max and mean pools on axis 2 and flattens, which
    # interleaves them: [max_0, mean_0, max_1, mean_1, ...]. The dense weights expect that order.
    pooled = tf.stack([tf.reduce_max(features, axis=1), tf.reduce_mean(features, axis=1)], axis=2)
    flat = _bn(tf, tf.reshape(pooled, [-1, 1506]), w, "batch_normalization_9")
    dense = tf.nn.relu(tf.matmul(flat, w["dense/kernel"]) + w["dense/bias"])
    penultimate = _bn(tf, dense, w, "batch_normalization_10")
    logits = tf.matmul(penultimate, w["dense_1/kernel"]) + w["dense_1/bias"]
    return tf.sigmoid(logits), penultimate


def _constants(tf: Any, weights: dict[str, np.ndarray], precision: str) -> dict[str, Any]:
    conv_dtype = {"float32": tf.float32, "bfloat16": tf.bfloat16}[precision]
    return {
        name: tf.constant(
            value, conv_dtype if name.startswith("conv2d") and name.endswith("kernel") else None
        )
        for name, value in weights.items()
    }


class Backbone:
    """Both taggers behind one compiled function, so one call over a batch of patches runs both.

    precision="bfloat16" runs the convolutions in bfloat16 (about 4x faster where the CPU has
    AMX/AVX512-BF16) at the cost of about 1e-2 on tag probabilities; "float32" matches the reference.
    """

    def __init__(self, precision: str = "float32") -> None:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import tensorflow as tf

        self.precision = precision
        self.runtime = "tensorflow"
        self._weights = {m: _constants(tf, fold_frontend_signs(load_weights(m)), precision) for m in MODELS}

        @tf.function(input_signature=[tf.TensorSpec([None, None, 96], tf.float32)], reduce_retracing=True)
        def run(x: Any) -> tuple[Any, Any, Any, Any]:
            msd, msd_pen = forward(tf, self._weights["MSD_musicnn"], x)
            mtt, mtt_pen = forward(tf, self._weights["MTT_musicnn"], x)
            return msd, mtt, msd_pen, mtt_pen

        self._run = run

    def patch_outputs(self, patches: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-patch (msd probs (n, 50), mtt probs (n, 50), embeddings (n, 400))."""
        msd, mtt, msd_pen, mtt_pen = (t.numpy() for t in self._run(np.asarray(patches, np.float32)))
        return msd, mtt, np.concatenate([msd_pen, mtt_pen], axis=1)

    def __call__(self, patches: np.ndarray) -> BackboneOutput:
        msd, mtt, emb = self.patch_outputs(patches)
        return BackboneOutput(msd.mean(axis=0), mtt.mean(axis=0), emb.mean(axis=0), emb)
