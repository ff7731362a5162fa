"""H1: the facts tflite_int8_resample_cases.py relies on, and the models they stand for.

The int8 cases themselves (RESIZE_BILINEAR, TRANSPOSE_CONV, depthwise filters on axis 3) run
bit for bit against the interpreter in test_tflite_int8_ops.py. Here:
  * the converter writes a one-channel depthwise filter, quantized per channel, with one scale
    on axis 3; hhbc compiles that very file (TVM's importer alone refuses it);
  * the converter fuses ReLU and ReLU6 into TRANSPOSE_CONV (version 4), per channel or per
    tensor as asked: the cases test what they are named for;
  * a float TRANSPOSE_CONV with a fused ReLU (TVM's importer drops it) matches the interpreter.

    pytest tests/ops/test_tflite_int8_resample.py -n 2
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from tflite_int8_cases import convert
from tflite_int8_resample_cases import CASES

from hhbc.build import build
from hhbc.compare import compare
from hhbc.compiler import compile_model
from hhbc.emulate import run_model
from hhbc.targets import get_target

pytest.importorskip("tensorflow")
pytest.importorskip("ai_edge_litert")

BY_ID = {c.id: c for c in CASES}


def _schema():
    from ai_edge_litert import schema_py_generated as schema
    return schema


def _ops(data: bytes) -> list[tuple[str, object, object]]:
    """(builtin name, operator, subgraph) of every op in the model."""
    schema = _schema()
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    model = schema.ModelT.InitFromPackedBuf(bytearray(data), 0)
    sg = model.subgraphs[0]
    return [(names[max(model.operatorCodes[op.opcodeIndex].builtinCode,
                       model.operatorCodes[op.opcodeIndex].deprecatedBuiltinCode)], op, sg)
            for op in sg.operators]


def _run_both(path, tmp_path, target_name: str, arrays: list[np.ndarray]):
    target = get_target(target_name)
    compiled = compile_model(path, target, tmp_path / "out")
    elf = build(tmp_path / "out", target)
    got = run_model(elf, target, compiled.manifest["vlen"], arrays, compiled.manifest["outputs"], tmp_path / "io")
    return compiled, got, compiled.model.reference(arrays)


@pytest.mark.parametrize("case_id", ["dwconv-axis3-c1-m1", "dwconv-axis3-c1-m1-s2-valid"])
def test_one_channel_depthwise_filter_on_axis_3(case_id, tmp_path):
    """Per channel, the converter puts the one scale of a one-channel depthwise filter on axis 3;
    per tensor on axis 0 (the case's rewrite turns the latter into the former). hhbc compiles the
    per-channel converter's own file and matches the interpreter bit for bit."""
    case = BY_ID[case_id]
    per_channel = convert(replace(case, per_channel=True, rewrite=None))
    per_tensor = convert(replace(case, rewrite=None))
    filters = {}
    for name, data in (("per-channel", per_channel), ("per-tensor", per_tensor)):
        ((op_name, op, sg),) = _ops(data)
        assert op_name == "DEPTHWISE_CONV_2D"
        q = sg.tensors[op.inputs[1]].quantization
        filters[name] = (len(q.scale), int(q.quantizedDimension))
    assert filters == {"per-channel": (1, 3), "per-tensor": (1, 0)}, filters

    path = tmp_path / "model.tflite"
    path.write_bytes(per_channel)
    rng = np.random.default_rng(case.seed())
    arrays = [rng.integers(-128, 128, size=case.inputs[0], dtype=np.int8)]
    _, got, refs = _run_both(path, tmp_path, "host", arrays)
    assert np.array_equal(got[0], refs[0]), np.abs(got[0].astype(int) - refs[0]).max()


@pytest.mark.parametrize("case_id, activation, scales, after", [
    ("transpose-conv-3x3-s1-same-relu", 1, 7, []),        # ActivationFunctionType RELU, per channel
    ("transpose-conv-4x4-s2-same-relu6", 3, 6, []),       # RELU6
    ("transpose-conv-3x3-s2-valid-nobias-pt", 0, 1, ["RELU"]),   # without a bias the ReLU stays an op
    ("transpose-conv-3x3-s2-same", 0, 5, []),
    ("transpose-conv-3x3-s2-same-pt", 0, 1, []),
])
def test_transpose_conv_cases_are_what_they_say(case_id, activation, scales, after):
    case = BY_ID[case_id]
    ops = _ops(convert(case))
    assert [name for name, _, _ in ops] == ["TRANSPOSE_CONV", *after], [name for name, _, _ in ops]
    _, op, sg = ops[0]
    assert op.builtinOptions.fusedActivationFunction == activation
    assert len(sg.tensors[op.inputs[1]].quantization.scale) == scales
    has_bias = len(op.inputs) > 3 and op.inputs[3] >= 0
    assert has_bias == ("nobias" not in case_id)


@pytest.mark.parametrize("target_name", ["host", pytest.param("c908", marks=pytest.mark.qemu)])
def test_float_transpose_conv_fused_relu(target_name, tmp_path):
    """Float TRANSPOSE_CONV + bias + ReLU: the converter fuses the ReLU into the op, which TVM's
    importer ignores; hhbc applies it (frontends/tflite_int8.transpose_conv)."""
    from tflite_float_cases import Case as FloatCase, _with_weights, convert as convert_float

    def f(tf, rng, x):
        wt = (rng.standard_normal((3, 3, 5, 3)) * 0.5).astype(np.float32)
        y = tf.nn.conv2d_transpose(x, wt, [1, 8, 10, 5], 2, "SAME")
        return tf.nn.relu(tf.nn.bias_add(y, (rng.standard_normal(5) * 0.5).astype(np.float32)))

    case = FloatCase("float-transpose-conv-relu", _with_weights(f), ((1, 4, 5, 3),), frozenset({"TRANSPOSE_CONV"}))
    data = convert_float(case)
    ops = _ops(data)
    assert [name for name, _, _ in ops] == ["TRANSPOSE_CONV"] and ops[0][1].builtinOptions.fusedActivationFunction == 1
    path = tmp_path / "model.tflite"
    path.write_bytes(data)
    _, got, refs = _run_both(path, tmp_path, target_name, case.input_arrays([case.inputs[0]]))
    assert (refs[0] == 0).any() and (refs[0] > 0).any()   # the ReLU clips something, not everything
    c = compare("out", got[0], refs[0])
    assert c.ok, c.line()
