"""Seed models for the fuzz harnesses, generated on the fly with the builders the tests already
have (no committed binaries): one small model per feature the frontends care about.

    python -m tests.fuzz.seeds FORMAT DIR [--long]   # write FORMAT's seeds into DIR

Formats: onnx, tflite, pb, prototxt, caffemodel. The Caffe harnesses also need the fixed net
of CAFFE_NET (caffe_net()): the prototxt harness compiles mutants of a prototxt against its
.caffemodel, the caffemodel harness mutants of its .caffemodel against its .prototxt."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
for _p in (ROOT / "tests" / "frontends", ROOT / "examples", ROOT / "tests"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

FORMATS = ("onnx", "tflite", "pb", "prototxt", "caffemodel")
SUFFIX = {"onnx": ".onnx", "tflite": ".tflite", "pb": ".pb", "prototxt": ".prototxt",
          "caffemodel": ".caffemodel"}
SHARED_MODELS = ROOT.parent / "shared" / "models"
REAL_SEED_BYTES = 1 << 20          # real models under ../shared/models smaller than this join the long run


# ------------------------------------------------------------------------------------------ ONNX
def onnx_seeds(long_run: bool = False) -> dict[str, bytes]:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    import make_kws_dscnn
    import test_onnx_qdq as qdq

    rng = np.random.default_rng(13)

    def const(name, *shape):
        return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)

    # conv -> relu -> depthwise conv -> max pool, a second branch through avg pool, add, mul,
    # concat, global pool, dense (Gemm), softmax: every op in a few hundred bytes.
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1], strides=[1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "wd"], ["d1"], name="dw", group=4, pads=[1, 1, 1, 1]),
        helper.make_node("MaxPool", ["d1"], ["p1"], name="maxpool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("AveragePool", ["r1"], ["p2"], name="avgpool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Add", ["p1", "p2"], ["s"], name="add"),
        helper.make_node("Mul", ["s", "k"], ["m"], name="mul"),
        helper.make_node("Concat", ["m", "p2"], ["cat"], name="concat", axis=1),
        helper.make_node("GlobalAveragePool", ["cat"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["f"], name="flatten", axis=1),
        helper.make_node("Gemm", ["f", "wf", "bf"], ["logits"], name="fc", transB=1),
        helper.make_node("Softmax", ["logits"], ["y"], name="softmax", axis=1),
    ]
    inits = [const("w1", 4, 3, 3, 3), const("b1", 4), const("wd", 4, 1, 3, 3), const("k", 1, 4, 1, 1),
             const("wf", 5, 8), const("bf", 5)]
    graph = helper.make_graph(nodes, "mix", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5])], inits)
    mix = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    onnx.checker.check_model(mix)
    seeds = {
        "mix": mix.SerializeToString(),
        "qdq_conv_per_channel": qdq._conv_case(True, relu=True).SerializeToString(),
        "qdq_depthwise": qdq._conv_case(False, groups=6, stride=2).SerializeToString(),
        "qdq_gemm": qdq._gemm_case(True).SerializeToString(),
        "qdq_add": qdq._add_case().SerializeToString(),
        "qdq_avgpool": qdq._pool_case(False, pad=1).SerializeToString(),
        "qdq_maxpool": qdq._max_pool_case(True).SerializeToString(),
    }
    if long_run:    # 100 kB, about 1 s a compile: too slow for the smoke run
        seeds["kws_dscnn"] = make_kws_dscnn.build_model().SerializeToString()
    return seeds


# ---------------------------------------------------------------------------------------- TFLite
def tflite_seeds() -> dict[str, bytes]:
    import tflite_gen

    tf = tflite_gen._tf()
    layers = tf.keras.layers
    inp = tf.keras.Input((8, 8, 3), batch_size=1)
    a = layers.Conv2D(4, 3, padding="same", activation="relu")(inp)
    b = layers.DepthwiseConv2D(3, padding="same")(a)
    p = layers.MaxPooling2D(2)(b)
    q = layers.AveragePooling2D(2)(a)
    s = layers.Add()([p, q])
    m = layers.Multiply()([s, q])
    x = layers.Concatenate()([m, p])
    x = layers.Flatten()(x)
    x = layers.Dense(6)(x)
    mix = tf.keras.Model(inp, layers.Softmax()(x))
    return {
        "mix": tflite_gen._convert(mix),
        "conv_fc": tflite_gen._convert(tflite_gen.conv_fc_model(input_shape=(8, 8, 3), filters=4, units=5)),
        "int8_float_io": tflite_gen.int8_float_io(),
        "int8_mix": _tflite_int8(tf, mix),
        "hybrid": tflite_gen.hybrid_weights(),
        "float16": tflite_gen.float16_weights(),
    }


def _tflite_int8(tf, model) -> bytes:
    """Fully int8, int8 in and out (the MCU layout)."""
    import tflite_gen

    rng = np.random.default_rng(tflite_gen.SEED)
    shape = (1, *model.input_shape[1:])

    def configure(c):
        c.optimizations = [tf.lite.Optimize.DEFAULT]
        c.representative_dataset = lambda: ([rng.uniform(-1, 1, shape).astype(np.float32)] for _ in range(16))
        c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        c.inference_input_type = tf.int8
        c.inference_output_type = tf.int8
    return tflite_gen._convert(model, configure)


# ---------------------------------------------------------------------------------------- frozen .pb
def pb_seeds(tmp: Path) -> dict[str, bytes]:
    import test_tf_frontend as tft

    tf, tf1, w = tft.tf, tft.tf1, tft._w

    def mix(x):
        c = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, w(3, 3, 4, 4), 1, "SAME"), w(4)))
        d = tf.nn.depthwise_conv2d(c, w(3, 3, 4, 1), [1, 1, 1, 1], "SAME")
        p = tf.nn.max_pool2d(d, 2, 2, "VALID")
        q = tf.nn.avg_pool2d(c, 2, 2, "VALID")
        m = tf.concat([(p + q) * q, p], axis=3)
        f = tf.reshape(m, [1, -1])
        return tf.nn.softmax(tf.matmul(f, w(72, 5)) + w(5))

    def bn(x):
        y = tf.nn.conv2d(x, w(1, 1, 4, 6), 2, "VALID")
        return tf1.nn.fused_batch_norm(y, w(6), w(6), w(6), w(6, positive=True), epsilon=1e-3,
                                       is_training=False)[0]

    seeds = {}
    for name, build in (("mix", mix), ("conv_bn", bn),
                        ("pad_mean", lambda x: tf.reduce_mean(tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]]),
                                                              axis=[1, 2]))):
        d = tmp / name
        d.mkdir(parents=True, exist_ok=True)
        path, _ = tft._one_op(d, build)
        seeds[name] = path.read_bytes()
    return seeds


# ---------------------------------------------------------------------------------------- Caffe
def caffe_net():
    """One net with every weighted layer kind the harnesses need: conv, depthwise conv, pools,
    eltwise sum/product, concat, inner product, softmax."""
    from caffe_cases import Enum, Net, conv_layer, pool, w

    net = Net({"data": (1, 3, 8, 8)})
    conv_layer(net, "conv1", "data", "conv1", 3, 4, pad=1)
    net.add("relu1", "ReLU", "conv1", "conv1")
    conv_layer(net, "dw", "conv1", "dw", 4, 4, group=4, pad=1)
    pool(net, "pool1", "dw", "pool1", pool="MAX", kernel_size=2, stride=2)
    pool(net, "pool2", "conv1", "pool2", pool="AVE", kernel_size=2, stride=2)
    net.add("sum", "Eltwise", ["pool1", "pool2"], "sum")
    net.add("prod", "Eltwise", ["sum", "pool2"], "prod", eltwise_param={"operation": Enum("PROD")})
    net.add("cat", "Concat", ["prod", "pool1"], "cat")
    net.add("bn", "BatchNorm", "cat", "cat", [w(8), w(8, positive=True), np.ones(1)])
    net.add("scale", "Scale", "cat", "cat", [w(8), w(8)], scale_param={"bias_term": True})
    net.add("ip", "InnerProduct", "cat", "ip", [w(5, 128), w(5)], inner_product_param={"num_output": 5})
    net.add("prob", "Softmax", "ip", "prob")
    return net


def prototxt_seeds() -> dict[str, bytes]:
    from caffe_cases import CASES

    seeds = {"net": caffe_net().prototxt().encode()}
    for case in CASES:   # the weight-free cases: their layers need nothing from the fixed .caffemodel
        if not case.net.blobs and len(seeds) < 12:
            seeds[case.id] = case.net.prototxt().encode()
    return seeds


def caffemodel_seeds() -> dict[str, bytes]:
    from caffe_cases import Net

    net = caffe_net()
    legacy = Net(net.inputs, legacy_blobs=True, layers=net.layers, blobs=net.blobs)
    return {"net": net.caffemodel(), "net_legacy_blobs": legacy.caffemodel()}


# ---------------------------------------------------------------------------------------- all
def generate(fmt: str, tmp: Path, long_run: bool = False) -> dict[str, bytes]:
    if fmt == "onnx":
        return onnx_seeds(long_run)
    if fmt == "tflite":
        return tflite_seeds()
    if fmt == "pb":
        return pb_seeds(tmp)
    if fmt == "prototxt":
        return prototxt_seeds()
    if fmt == "caffemodel":
        return caffemodel_seeds()
    raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")


def real_models(fmt: str) -> list[Path]:
    """Small real models of this format under ../shared/models (the long run's extra seeds)."""
    if not SHARED_MODELS.is_dir() or fmt in ("prototxt", "caffemodel"):
        return []
    return sorted(p for p in SHARED_MODELS.rglob(f"*{SUFFIX[fmt]}")
                  if p.is_file() and p.stat().st_size < REAL_SEED_BYTES
                  and p.name != "saved_model.pb")     # a SavedModel's graph, not a frozen one


def write_seeds(fmt: str, directory: Path, long_run: bool = False) -> list[Path]:
    """FORMAT's seeds into DIRECTORY; long_run adds the bigger ones (the DS-CNN demo model) and
    small real models from ../shared/models."""
    import tempfile

    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        seeds = generate(fmt, Path(tmp), long_run)
    paths = []
    for name, data in seeds.items():
        path = directory / f"{name}{SUFFIX[fmt]}"
        path.write_bytes(data)
        paths.append(path)
    for src in real_models(fmt) if long_run else ():
        path = directory / f"real_{src.parent.name}_{src.name}"
        path.write_bytes(src.read_bytes())
        paths.append(path)
    return paths


def write_caffe_pair(directory: Path) -> tuple[Path, Path]:
    """The fixed net's .prototxt and .caffemodel (the harnesses' fixed halves)."""
    directory.mkdir(parents=True, exist_ok=True)
    net = caffe_net()
    proto, model = directory / "fixed.prototxt", directory / "fixed.caffemodel"
    proto.write_text(net.prototxt())
    model.write_bytes(net.caffemodel())
    return proto, model


if __name__ == "__main__":
    fmt, out = sys.argv[1], Path(sys.argv[2])
    for p in write_seeds(fmt, out, long_run="--long" in sys.argv):
        print(p)
