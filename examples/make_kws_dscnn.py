"""Write the bundled demo model: a small DS-CNN keyword spotter, as ONNX.

The architecture follows the MLPerf Tiny KWS reference (49x10 MFCC input,
a strided 10x4 conv, four depthwise-separable blocks, global average pool,
12 classes). Weights are random with a fixed seed: the demo shows the
compiler, not a trained network. BatchNorm layers are kept in the graph so
the optimizer has something to fold.

    python examples/make_kws_dscnn.py build/kws_dscnn.onnx
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

CHANNELS = 64
BLOCKS = 4
CLASSES = 12


class _Builder:
    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []

    def const(self, name: str, array: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(array.astype(np.float32), name))
        return name

    def conv(self, name: str, x: str, cin: int, cout: int, kernel, stride=(1, 1), pads=(0, 0, 0, 0),
             group: int = 1) -> str:
        fan_in = cin // group * kernel[0] * kernel[1]
        w = self.rng.standard_normal((cout, cin // group, *kernel)) * np.sqrt(2.0 / fan_in)
        self.nodes.append(helper.make_node(
            "Conv", [x, self.const(f"{name}/weight", w)], [f"{name}/out"], name=name,
            kernel_shape=list(kernel), strides=list(stride), pads=list(pads), group=group))
        return f"{name}/out"

    def bn_relu(self, name: str, x: str, channels: int) -> str:
        params = [self.const(f"{name}/gamma", 1 + 0.1 * self.rng.standard_normal(channels)),
                  self.const(f"{name}/beta", 0.1 * self.rng.standard_normal(channels)),
                  self.const(f"{name}/mean", 0.1 * self.rng.standard_normal(channels)),
                  self.const(f"{name}/var", 1 + 0.1 * self.rng.random(channels))]
        self.nodes.append(helper.make_node("BatchNormalization", [x, *params], [f"{name}/bn"],
                                           name=f"{name}/bn", epsilon=1e-3))
        self.nodes.append(helper.make_node("Relu", [f"{name}/bn"], [f"{name}/relu"], name=f"{name}/relu"))
        return f"{name}/relu"


def build_model(seed: int = 2024) -> onnx.ModelProto:
    b = _Builder(seed)
    x = b.conv("conv0", "mfcc", 1, CHANNELS, (10, 4), stride=(2, 2), pads=(4, 1, 5, 1))
    x = b.bn_relu("conv0", x, CHANNELS)
    for i in range(1, BLOCKS + 1):
        x = b.conv(f"dw{i}", x, CHANNELS, CHANNELS, (3, 3), pads=(1, 1, 1, 1), group=CHANNELS)
        x = b.bn_relu(f"dw{i}", x, CHANNELS)
        x = b.conv(f"pw{i}", x, CHANNELS, CHANNELS, (1, 1))
        x = b.bn_relu(f"pw{i}", x, CHANNELS)
    b.nodes.append(helper.make_node("GlobalAveragePool", [x], ["pool"], name="pool"))
    b.nodes.append(helper.make_node("Flatten", ["pool"], ["flat"], name="flatten", axis=1))
    w = b.rng.standard_normal((CLASSES, CHANNELS)) / np.sqrt(CHANNELS)
    b.nodes.append(helper.make_node("Gemm", ["flat", b.const("fc/weight", w), b.const("fc/bias", np.zeros(CLASSES))],
                                    ["logits"], name="fc", transB=1))
    b.nodes.append(helper.make_node("Softmax", ["logits"], ["probs"], name="softmax", axis=1))
    graph = helper.make_graph(
        b.nodes, "kws_dscnn",
        [helper.make_tensor_value_info("mfcc", TensorProto.FLOAT, [1, 1, 49, 10])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, [1, CLASSES])],
        initializer=b.inits)
    model = helper.make_model(graph, producer_name="hhbc-examples", opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="where to write the .onnx file")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(build_model(args.seed), str(args.output))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
