"""The graph rewrite of the export, on a small graph of the same shape (no TensorFlow needed)."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from worker.backbone import onnx_export


def _conv_then_frequency_max(filters: int) -> onnx.ModelProto:
    """x (batch, 1, 20, 12) -> Conv [3, 4], time padded -> max over frequency -> (batch, filters, 20)."""
    kernel = np.random.default_rng(0).standard_normal((filters, 1, 3, 4)).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("Conv", ["x", "kernel"], ["z"], "conv", kernel_shape=[3, 4], pads=[1, 0, 1, 0]),
            helper.make_node("ReduceMax", ["z"], ["y"], "max", axes=[3], keepdims=0),
        ],
        "frontend",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 1, 20, 12])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", filters, 20])],
        [numpy_helper.from_array(kernel, "kernel")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _run(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return session.run(["y"], {"x": x})[0]


def test_frequency_max_becomes_a_max_pool_over_whole_blocks_of_filters() -> None:
    original = _conv_then_frequency_max(filters=5)

    rewritten = onnx_export.pool_frequency_max(original)

    assert [node.op_type for node in rewritten.graph.node] == ["Conv", "MaxPool", "Slice", "Squeeze"]
    kernel = next(init for init in rewritten.graph.initializer if init.name == "kernel")
    assert kernel.dims == [onnx_export.NCHWC_BLOCK, 1, 3, 4]
    pool = rewritten.graph.node[1]
    assert helper.get_attribute_value(pool.attribute[0]) == [1, 12 - 4 + 1]


def test_rewritten_graph_gives_the_same_numbers_bit_for_bit() -> None:
    original = _conv_then_frequency_max(filters=5)
    x = np.random.default_rng(1).standard_normal((3, 1, 20, 12)).astype(np.float32)

    expected = _run(original, x)
    got = _run(onnx_export.pool_frequency_max(original), x)

    assert got.shape == (3, 5, 20)
    np.testing.assert_array_equal(got, expected)
