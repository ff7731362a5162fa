"""TFLite frontend: small float models made with TF's TFLiteConverter, run against the
TFLite interpreter (reference kernels); layer names, -in/-is/-on; bad input through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hhbc.errors import HhbcError
from hhbc.frontends import ImportOptions, load_model
from hhbc.runner import run_and_compare
from hhbc.targets import get_target
from conftest import assert_one_line_error, run_cli

tf = pytest.importorskip("tensorflow")
pytest.importorskip("ai_edge_litert")

RNG = np.random.default_rng(7)


def _w(*shape, scale=0.5):
    return tf.constant(RNG.standard_normal(shape).astype(np.float32) * scale)


def convert(fn, shapes, path: Path, **settings) -> Path:
    """A tf.function over float32 inputs of `shapes` -> a .tflite file at `path`."""
    func = tf.function(fn, input_signature=[tf.TensorSpec(s, tf.float32) for s in shapes])
    converter = tf.lite.TFLiteConverter.from_concrete_functions([func.get_concrete_function()])
    for key, value in settings.items():
        setattr(converter, key, value)
    path.write_bytes(converter.convert())
    return path


def _hard_swish(x):
    return x * tf.nn.relu6(x + 3.0) / 6.0   # the converter matches this into HARD_SWISH


# name -> (function, input shapes, TFLite ops the model must contain)
CONV_W, DW_W, FC_W = _w(3, 3, 3, 8), _w(3, 3, 8, 1), _w(48, 10)
CASES = {
    "conv": (lambda x: tf.nn.relu(tf.nn.conv2d(x, CONV_W, 2, "SAME") + _w(8)),
             [(1, 9, 9, 3)], {"CONV_2D"}),
    "conv_valid_dilated": (lambda x: tf.nn.conv2d(x, CONV_W, 1, "VALID", dilations=2),
                           [(1, 9, 9, 3)], {"CONV_2D"}),
    "depthwise_relu6": (lambda x: tf.nn.relu6(tf.nn.depthwise_conv2d(x, DW_W, [1, 1, 1, 1], "SAME") + _w(8)),
                        [(1, 6, 6, 8)], {"DEPTHWISE_CONV_2D"}),
    "depthwise_stride2_multiplier": (
        lambda x: tf.nn.depthwise_conv2d(x, _w(3, 3, 4, 2), [1, 2, 2, 1], "SAME"),
        [(1, 7, 7, 4)], {"DEPTHWISE_CONV_2D"}),
    "fc": (lambda x: tf.matmul(tf.reshape(x, (1, 48)), FC_W) + _w(10), [(1, 4, 4, 3)],
           {"FULLY_CONNECTED"}),
    "add_mul_broadcast": (lambda x, y: x * _w(1, 1, 1, 5) + y, [(1, 3, 4, 5), (1, 3, 1, 5)], {"ADD", "MUL"}),
    "sub_div_max_min": (lambda x, y: tf.maximum(x - y, -0.5) / (tf.abs(y) + 1.0) + tf.minimum(x, y),
                        [(1, 4, 6), (1, 4, 6)], {"SUB", "DIV", "MAXIMUM", "MINIMUM"}),
    "pools": (lambda x: tf.concat([tf.nn.max_pool2d(x, 2, 2, "VALID"), tf.nn.avg_pool2d(x, 3, 2, "SAME")], 3),
              [(1, 8, 8, 4)], {"MAX_POOL_2D", "AVERAGE_POOL_2D", "CONCATENATION"}),
    "mean": (lambda x: tf.reduce_mean(x, axis=[1, 2]), [(1, 5, 6, 4)], {"MEAN"}),
    "mean_keepdims": (lambda x: tf.reduce_mean(x, axis=[2], keepdims=True), [(1, 5, 6, 4)], {"MEAN"}),
    "softmax": (lambda x: tf.nn.softmax(x * 3.0), [(1, 10)], {"SOFTMAX"}),
    "reshape_concat": (lambda x, y: tf.concat([tf.reshape(x, (1, 2, 12)), y], axis=1),
                       [(1, 4, 6), (1, 3, 12)], {"RESHAPE", "CONCATENATION"}),
    "pad": (lambda x: tf.pad(x, [[0, 0], [1, 2], [0, 1], [0, 0]]) * 2.0, [(1, 4, 4, 3)], {"PAD"}),
    # EXP has no fused activation, so RELU6 stays an op (and exp(x) > 6 tests the bound).
    "relu6": (lambda x: tf.nn.relu6(tf.exp(x)), [(1, 4, 8)], {"RELU6", "EXP"}),
    "relu_and_n1_to_1": (lambda x: tf.nn.relu(x) + tf.clip_by_value(x, -1.0, 1.0), [(1, 4, 8)],
                         {"RELU", "RELU_N1_TO_1"}),
    "neg_rsqrt_expand": (lambda x: tf.expand_dims(-x, 1) * tf.expand_dims(tf.math.rsqrt(tf.abs(x) + 1.0), 1),
                         [(1, 12)], {"NEG", "RSQRT"}),
    "padv2_reduce_min": (lambda x: tf.reduce_min(tf.pad(x, [[0, 0], [1, 1], [0, 0]], constant_values=-0.5),
                                                 axis=[2]), [(1, 4, 8)], {"PADV2", "REDUCE_MIN"}),
    "logistic": (lambda x: tf.sigmoid(x * 3.0), [(1, 4, 8)], {"LOGISTIC"}),
    "tanh": (lambda x: tf.tanh(x * 2.0), [(1, 4, 8)], {"TANH"}),
    "hard_swish": (lambda x: _hard_swish(x * 3.0), [(1, 4, 4, 3)], {"HARD_SWISH"}),
    "leaky_relu": (lambda x: tf.nn.leaky_relu(x, 0.2), [(1, 4, 8)], {"LEAKY_RELU"}),
    "transpose_squeeze": (lambda x: tf.squeeze(tf.transpose(x, [0, 2, 1, 3]), axis=[3]), [(1, 3, 5, 1)],
                          {"TRANSPOSE"}),
    "exp_log_sqrt": (lambda x: tf.exp(x) + tf.math.log(tf.abs(x) + 1.0) + tf.sqrt(tf.abs(x)),
                     [(1, 12)], {"EXP", "LOG", "SQRT"}),
    "reduce_sum_max": (lambda x: tf.reduce_sum(x, axis=[1]) + tf.reduce_max(x, axis=[1]), [(1, 5, 6)],
                       {"SUM", "REDUCE_MAX"}),
}
# The ops the issue lists, also run under QEMU on c908.
C908_CASES = ["conv", "depthwise_relu6", "fc", "add_mul_broadcast", "pools", "mean", "softmax",
              "reshape_concat", "pad", "relu6", "logistic", "tanh", "hard_swish"]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tflite")
    cache: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in cache:
            fn, shapes, _ = CASES[name]
            cache[name] = convert(fn, shapes, folder / f"{name}.tflite")
        return cache[name]

    return get


def _check(models, name, target, tmp_path):
    path = models(name)
    result = run_and_compare(path, get_target(target), out_dir=tmp_path / "out")
    ops = set(result.compiled.model.source_ops)
    assert CASES[name][2] <= ops, f"the converter did not emit {CASES[name][2] - ops}: {ops}"
    for c in result.comparisons:
        print(f"{name} {target}: {c.line()}")
        assert c.ok, c.line()
    return result


@pytest.mark.parametrize("name", list(CASES))
def test_float_op_matches_interpreter_host(models, name, tmp_path):
    _check(models, name, "host", tmp_path)


@pytest.mark.parametrize("name", C908_CASES)
def test_float_op_matches_interpreter_c908(models, name, tmp_path):
    _check(models, name, "c908", tmp_path)


def test_layer_names_are_output_tensor_names(tmp_path):
    path = convert(lambda x: tf.tanh(tf.nn.relu(tf.nn.conv2d(x, CONV_W, 1, "SAME") + _w(8))), [(1, 5, 5, 3)],
                   tmp_path / "m.tflite")
    from hhbc.compiler import compile_model

    compile_model(path, get_target("host"), tmp_path / "out")
    comments = [l for l in (tmp_path / "out" / "model.c").read_text().splitlines() if l.startswith("/* [")]
    # TFLite names a fused conv+bias+relu's output after the TF ops it merged.
    conv, tanh = _intermediate(path, "CONV_2D"), _intermediate(path, "TANH")
    assert "Relu" in conv
    assert any(l.startswith(f"/* [0] {conv[:60]}") for l in comments), (conv, comments)
    assert any(f"] {tanh}: unary" in l for l in comments), (tanh, comments)


def test_io_from_the_subgraph(models):
    model = load_model(models("add_mul_broadcast"))
    assert [(i.shape, i.dtype) for i in model.inputs] == [((1, 3, 4, 5), "float32"), ((1, 3, 1, 5), "float32")]
    assert [(o.shape, o.dtype) for o in model.outputs] == [((1, 3, 4, 5), "float32")]
    assert model.format == "tflite"


def test_is_overrides_the_batch(tmp_path):
    path = tmp_path / "m.tflite"
    convert(lambda x: tf.nn.relu(tf.nn.conv2d(x, CONV_W, 1, "SAME")), [(None, 6, 6, 3)], path)
    model = load_model(path, ImportOptions(input_shapes=((2, 6, 6, 3),)))
    assert model.inputs[0].shape == (2, 6, 6, 3) and model.outputs[0].shape == (2, 6, 6, 8)
    result = run_and_compare(path, get_target("host"), options=ImportOptions(input_shapes=((2, 6, 6, 3),)))
    assert all(c.ok for c in result.comparisons), [c.line() for c in result.comparisons]
    with pytest.raises(HhbcError, match="dim 1 is fixed to 6"):
        load_model(path, ImportOptions(input_shapes=((1, 7, 6, 3),)))


def _intermediate(model_path: Path, op: str) -> str:
    from hhbc.frontends.tflite import read_tflite

    graph = read_tflite(model_path, model_path.read_bytes())
    return next(graph.tensor_name(o.outputs[0]) for o in graph.ops if o.code == op)


def test_on_selects_an_intermediate_output(tmp_path):
    path = convert(lambda x: tf.nn.softmax(tf.tanh(x * 2.0) * 3.0), [(1, 8)], tmp_path / "m.tflite")
    tanh = _intermediate(path, "TANH")
    result = run_and_compare(path, get_target("host"), options=ImportOptions(output_names=(tanh,)))
    assert [o.name for o in result.compiled.model.outputs] == [tanh]
    np.testing.assert_allclose(result.references[0], np.tanh(result.inputs[0] * 2.0), atol=1e-5)
    assert all(c.ok for c in result.comparisons), [c.line() for c in result.comparisons]


def test_in_cuts_the_graph(tmp_path):
    path = convert(lambda x: tf.nn.softmax(tf.tanh(x * 2.0) * 3.0), [(1, 8)], tmp_path / "m.tflite")
    tanh = _intermediate(path, "TANH")
    model = load_model(path, ImportOptions(input_names=(tanh,)))
    assert [i.name for i in model.inputs] == [tanh]
    text = model.mod["main"].script()
    assert "tanh" not in text and "softmax" in text
    with pytest.raises(HhbcError, match="cannot run a model cut with -in"):
        model.reference([np.zeros((1, 8), np.float32)])


# ---------------------------------------------------------------- bad input, through the CLI
def _compile(path: Path, tmp_path: Path):
    return run_cli("compile", str(path), "--target", "host", "-o", str(tmp_path / "out"))


def test_garbage_file(tmp_path):
    path = tmp_path / "garbage.tflite"
    path.write_bytes(b"this is not a flatbuffer at all\n" * 4)
    assert_one_line_error(_compile(path, tmp_path), str(path), "not a TFLite model")


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9, 0.999])
def test_truncated_file(models, tmp_path, keep):
    data = models("conv").read_bytes()
    path = tmp_path / "truncated.tflite"
    path.write_bytes(data[:int(len(data) * keep)])
    assert_one_line_error(_compile(path, tmp_path), str(path), "truncated or corrupt TFLite model")


def _with_custom_ops(src: Path, dst: Path, ops: dict[str, str]) -> Path:
    """Rewrite builtin opcodes into custom ones (flatbuffer object API): {builtin: custom code}."""
    from tensorflow.lite.tools import flatbuffer_utils
    from tflite.BuiltinOperator import BuiltinOperator

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(src.read_bytes()))
    for code in model.operatorCodes:
        for builtin, custom in ops.items():
            if code.builtinCode == getattr(BuiltinOperator, builtin):
                code.builtinCode = code.deprecatedBuiltinCode = BuiltinOperator.CUSTOM
                code.customCode = custom
    dst.write_bytes(bytes(flatbuffer_utils.convert_object_to_bytearray(model)))
    return dst


def test_custom_ops_are_named(tmp_path):
    src = convert(lambda x: tf.sigmoid(tf.tanh(x) * 2.0), [(1, 8)], tmp_path / "src.tflite")
    path = _with_custom_ops(src, tmp_path / "custom.tflite", {"TANH": "MyTanh", "LOGISTIC": "MySigmoid"})
    line = assert_one_line_error(_compile(path, tmp_path), str(path), "custom ops are not supported",
                                 "'MyTanh'", "'MySigmoid'", "'Tanh'")
    assert "op 0" in line and "op 2" in line


def test_unsupported_builtins_are_all_listed(tmp_path):
    path = convert(lambda x: tf.sin(x) + tf.math.cumsum(x, axis=1) * tf.cos(x), [(1, 8)], tmp_path / "trig.tflite")
    assert_one_line_error(_compile(path, tmp_path), str(path), "unsupported TFLite ops", "COS", "CUMSUM",
                          "SIN", "at 3 op(s)")


def _dense_model(x):
    return tf.nn.relu(tf.matmul(x, _w(64, 64)) + _w(64))


def _kernels(proc, tmp_path: Path) -> set[str]:
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    return {layer["kernel"] for layer in manifest["layers"]}


def test_hybrid_int8_weights_compile_to_weight_only_kernels(tmp_path):
    path = convert(_dense_model, [(1, 64)], tmp_path / "hybrid.tflite", optimizations=[tf.lite.Optimize.DEFAULT])
    assert _kernels(_compile(path, tmp_path), tmp_path) == {"hhbc_dense_w8"}
    assert "const int8_t" in (tmp_path / "out" / "weights.c").read_text()


def test_int8_with_float_io_compiles_to_int8_kernels(tmp_path):
    def data():
        for _ in range(4):
            yield [RNG.standard_normal((1, 64)).astype(np.float32)]

    path = convert(_dense_model, [(1, 64)], tmp_path / "int8.tflite", optimizations=[tf.lite.Optimize.DEFAULT],
                   representative_dataset=data)
    assert _kernels(_compile(path, tmp_path), tmp_path) == {"hhbc_quantize_i8", "hhbc_dense_i8",
                                                            "hhbc_dequantize_i8"}
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert [io["dtype"] for io in manifest["inputs"] + manifest["outputs"]] == ["float32", "float32"]
    # a model that arrives quantized computes in int8: reports say so, not the float default
    assert manifest["scheme"] == "int8"


def test_float16_weights_compile_to_float_kernels(tmp_path):
    func = tf.function(_dense_model, input_signature=[tf.TensorSpec((1, 64), tf.float32)])
    converter = tf.lite.TFLiteConverter.from_concrete_functions([func.get_concrete_function()])
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.target_spec.supported_types = [tf.float16]
    path = tmp_path / "fp16.tflite"
    path.write_bytes(converter.convert())
    assert _kernels(_compile(path, tmp_path), tmp_path) == {"hhbc_dense_f32"}


def test_int16_activations_refused(tmp_path):
    """16x8 quantization (int16 activations) stays refused, by name."""
    def data():
        for _ in range(4):
            yield [RNG.standard_normal((1, 64)).astype(np.float32)]

    path = convert(_dense_model, [(1, 64)], tmp_path / "int16.tflite", optimizations=[tf.lite.Optimize.DEFAULT],
                   representative_dataset=data, target_spec=_int16x8_spec())
    assert_one_line_error(_compile(path, tmp_path), str(path), "int16", "not supported")


def _int16x8_spec():
    spec = tf.lite.TargetSpec()
    spec.supported_ops = [tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
    return spec


def test_unknown_in_name(models, tmp_path):
    proc = run_cli("compile", str(models("tanh")), "--target", "host", "-o", str(tmp_path / "o"), "-on", "nope")
    assert_one_line_error(proc, "no tensor named 'nope'")
