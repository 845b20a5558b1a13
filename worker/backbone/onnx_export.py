"""Export the musicnn taggers from the TensorFlow re-implementation to ONNX (this side needs TensorFlow).

    python -m worker.backbone.onnx_export --variant fp32|int8 --out FILE.onnx

Run by `worker.backbone.serving.ensure_onnx` in a child process when its cache lacks a model, so the serving
process itself never imports TensorFlow. The graph is `worker.backbone.musicnn.forward` traced for both taggers
with the weights folded in as constants (read from the musicnn wheel, as in `musicnn.Backbone`), so it
is the same network the parity test checks against the wheel's own TF1 graph.

Variants:
- "fp32": the traced graph, with each max over frequency after a front-end convolution rewritten as a
  max pool that ONNX Runtime keeps in its blocked layout (`pool_frequency_max`).
- "int8": the four timbral convolutions ([7, 38] and [7, 67], 204 filters, about 80 % of the
  multiply-adds) quantized to int8 (per-channel weights, activations calibrated on generated clips);
  everything else stays float32. Quantizing every convolution moved clip tag probabilities by up to
  0.2 and changed the top-5 tags, so only those four are.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from worker.audio import features
from worker.backbone import musicnn

OPSET = 17
INPUT_NAME = "patches"
OUTPUT_NAMES = ("msd", "mtt", "msd_pen", "mtt_pen")
TIMBRAL_FILTERS = 204  # the two timbral convolutions of each tagger have 204 filters, no other conv does
# ONNX Runtime's blocked ("NCHWc") layout groups channels by 8 on AVX2 hosts. With AVX-512 it groups
# them by 16: the 208 timbral filters still fill whole blocks there, the 56 temporal ones do not (those
# maxes then run as before, reordered first).
NCHWC_BLOCK = 8
FREQUENCY_MAXES = 10  # five front-end convolutions per tagger, each followed by a max over frequency
# Calibration clips: fixed generators and seeds, so an export is reproducible.
CALIBRATION_SEEDS = (101, 102, 103, 104, 105, 106)


def export_fp32(out: Path) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf
    import tf2onnx

    # NumPy weights (not tf.constant captured from outside) become Const nodes, so the ONNX graph
    # has one input instead of one per weight.
    weights = {m: musicnn.fold_frontend_signs(musicnn.load_weights(m)) for m in musicnn.MODELS}

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, features.PATCH_FRAMES, features.N_MELS], tf.float32, INPUT_NAME)
        ]
    )
    def run(x: Any) -> dict[str, Any]:
        msd, msd_pen = musicnn.forward(tf, weights["MSD_musicnn"], x)
        mtt, mtt_pen = musicnn.forward(tf, weights["MTT_musicnn"], x)
        return {"msd": msd, "mtt": mtt, "msd_pen": msd_pen, "mtt_pen": mtt_pen}

    tf2onnx.convert.from_function(run, input_signature=run.input_signature, opset=OPSET, output_path=str(out))


def pool_frequency_max(model: Any) -> Any:
    """Rewrite Conv -> ReduceMax over frequency as Conv (filters padded to NCHWC_BLOCK) -> MaxPool ->
    Slice -> Squeeze: the same numbers, bit for bit.

    ONNX Runtime runs these convolutions in its blocked layout, but it has no blocked ReduceMax, so it
    reordered each (batch, filters, 187, width) output back to the plain layout before reducing it:
    a full copy of the largest tensors of the network, 8 % of the run time. A blocked MaxPool exists
    but only for a channel count that fills whole blocks (204 and 51 filters do not), hence the zero
    filters, whose outputs the Slice drops; the layout is then reordered on 187 values per filter.
    The convolutions already computed the padding filters inside their blocks, so they cost nothing.
    """
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.shape_inference.infer_shapes(model)
    shapes = {v.name: v.type.tensor_type.shape for v in model.graph.value_info}
    producers = {out: node for node in model.graph.node for out in node.output}
    weights = {init.name: init for init in model.graph.initializer}
    uses: dict[str, int] = {}
    for node in model.graph.node:
        for name in node.input:
            uses[name] = uses.get(name, 0) + 1

    def constant(name: str, value: list[int]) -> str:
        if name not in weights:
            weights[name] = numpy_helper.from_array(np.array(value, np.int64), name)
            model.graph.initializer.append(weights[name])
        return name

    nodes = []
    for node in model.graph.node:
        conv = producers.get(node.input[0]) if node.op_type == "ReduceMax" else None
        if conv is None or conv.op_type != "Conv":
            nodes.append(node)
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        kernel_name = conv.input[1]
        if list(attrs.get("axes", [])) != [3] or attrs.get("keepdims") != 0 or len(conv.input) != 2:
            raise RuntimeError(f"unexpected frequency max {node.name}: {attrs}, {list(conv.input)}")
        if uses[kernel_name] != 1:
            raise RuntimeError(f"kernel {kernel_name} is shared; padding it would change another node")
        width = shapes[node.input[0]].dim[3].dim_value
        kernel = numpy_helper.to_array(weights[kernel_name])
        filters = kernel.shape[0]
        padded = -(-filters // NCHWC_BLOCK) * NCHWC_BLOCK
        zeros = np.zeros((padded - filters, *kernel.shape[1:]), kernel.dtype)
        weights[kernel_name].CopyFrom(numpy_helper.from_array(np.concatenate([kernel, zeros]), kernel_name))
        pooled, kept = f"{node.output[0]}/pool", f"{node.output[0]}/kept"
        end = constant(f"frequency_max/filters_{filters}", [filters])
        start, axis_1, axis_3 = (
            constant(f"frequency_max/{n}", [v]) for n, v in (("0", 0), ("1", 1), ("3", 3))
        )
        nodes += [
            helper.make_node(
                "MaxPool", [node.input[0]], [pooled], f"{node.name}/pool", kernel_shape=[1, width]
            ),
            helper.make_node("Slice", [pooled, start, end, axis_1], [kept], f"{node.name}/slice"),
            helper.make_node("Squeeze", [kept, axis_3], [node.output[0]], f"{node.name}/squeeze"),
        ]
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    del model.graph.value_info[:]  # inferred above for the widths; the padded convolutions changed them
    onnx.checker.check_model(model)
    return model


def calibration_patches() -> Iterator[np.ndarray]:
    """Log-mel patches of generated drums-and-bass and piano clips (30 s each, 10 patches)."""
    import librosa

    from worker.audio import synth

    for i, seed in enumerate(CALIBRATION_SEEDS):
        make = synth.drums_and_bass if i % 2 == 0 else synth.piano_piece
        samples = librosa.resample(make(30.0, seed=seed), orig_sr=synth.SR, target_sr=features.SAMPLE_RATE)
        yield features.extract(samples).patches


def timbral_convs(model: Any) -> list[str]:
    weights = {init.name: init for init in model.graph.initializer}
    return [
        node.name
        for node in model.graph.node
        if node.op_type == "Conv"
        and node.input[1] in weights
        and weights[node.input[1]].dims[0] == TIMBRAL_FILTERS
    ]


def quantize_int8(fp32: Path, out: Path) -> None:
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.batches = calibration_patches()

        def get_next(self) -> dict[str, np.ndarray] | None:
            batch = next(self.batches, None)
            return None if batch is None else {INPUT_NAME: batch}

    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(fp32), str(prepared), skip_symbolic_shape=True)
        nodes = timbral_convs(onnx.load(str(prepared)))
        if len(nodes) != 4:
            raise RuntimeError(f"expected the 4 timbral convolutions, found {nodes}")
        quantize_static(
            str(prepared),
            str(out),
            Reader(),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            # 7-bit weights: without VNNI (AVX2, and AVX-512 before VNNI) ONNX Runtime multiplies u8 by
            # s8 with VPMADDUBSW, whose 16-bit sums of pairs saturate on full-range weights; its own
            # docs advise reduce_range there. On this AVX2 host full-range weights put a clip's
            # probabilities 0.13 off the reference; VNNI hosts lose one bit of weight precision.
            reduce_range=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            nodes_to_quantize=nodes,
            calibrate_method=CalibrationMethod.MinMax,
        )


def export(variant: str, out: Path) -> Path:
    """Write the variant to `out` atomically (a reader never sees half a file)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        export_fp32(fp32)
        if variant == "fp32":
            import onnx

            pooled = pool_frequency_max(onnx.load(str(fp32)))
            if (found := sum(node.op_type == "MaxPool" for node in pooled.graph.node)) != FREQUENCY_MAXES:
                raise RuntimeError(f"expected {FREQUENCY_MAXES} frequency maxes to rewrite, found {found}")
            result = Path(tmp) / "pooled.onnx"
            onnx.save(pooled, str(result))
        elif variant == "int8":
            result = Path(tmp) / "int8.onnx"
            quantize_int8(fp32, result)
        else:
            raise ValueError(f"unknown ONNX variant {variant!r}; expected fp32 or int8")
        os.replace(result, out)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m worker.backbone.onnx_export", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--variant", choices=["fp32", "int8"], default="fp32")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    print(export(args.variant, args.out))


if __name__ == "__main__":
    main()
