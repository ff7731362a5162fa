"""The host simulation (hhbc/quantize/simulate.py) against the firmware, bit for bit.

Every int8 model of the dev zoo and every int8 model the op tests build is compiled for `host`
(the reference kernels, native cc), run, and simulated in numpy from the same KernelGraph:
the int8 outputs must be identical, and identical to the TFLite interpreter / onnxruntime
where the existing tests say the firmware is. One model also runs under QEMU on c906.

    .venv/bin/pytest tests/quantize/test_simulate.py -q -n 2
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pytest

from hhbc.build import build
from hhbc.compiler import compile_model
from hhbc.emulate import run_model
from hhbc.errors import HhbcError
from hhbc.frontends import ImportOptions
from hhbc.lower.graph import KernelGraph, Node, Tensor
from hhbc.quantize import simulate as sim_mod
from hhbc.quantize.simulate import simulate
from hhbc.targets import get_target

ROOT = Path(__file__).resolve().parents[2]
for sub in ("tests/ops", "tests/frontends"):
    if str(ROOT / sub) not in sys.path:
        sys.path.insert(0, str(ROOT / sub))

TFLITE_ZOO = {
    "vww": "tflite/mlperf_tiny/vww_96_int8.tflite",
    "resnet": "tflite/mlperf_tiny/pretrainedResnet_quant.tflite",
    "ad": "tflite/mlperf_tiny/ad01_int8.tflite",
    "kws": "tflite/mlperf_tiny/kws_ref_model.tflite",
}
ONNX_ZOO = {   # (file, the logits: the last DequantizeLinear's output, before the float Softmax)
    "kaijiang-kws": ("onnx/mlperf_tiny_results/kaijiang_k1_kws_ref_model.onnx",
                     "StatefulPartitionedCall/functional_1/dense/BiasAdd:0"),
    "kaijiang-resnet": ("onnx/mlperf_tiny_results/kaijiang_k1_resnet.onnx", "model/dense/BiasAdd:0"),
}
KWS_SAMPLE = "testdata/mlperf_tiny/kws_input_int8_1x49x10x1.npy"
SIM_SECONDS_LIMIT = 10.0   # the brief: a 96x96 VWW model simulates in a few seconds


def _model(models_dir: Path, rel: str) -> Path:
    path = models_dir / rel
    if not path.is_file():
        pytest.skip(f"{rel} is not in {models_dir}")
    return path


def _compile_and_build(path: Path, target: str, out: Path, options: ImportOptions = ImportOptions()):
    tgt = get_target(target)
    compiled = compile_model(path, tgt, out, options=options)
    return compiled, build(out, tgt), tgt


def _firmware(compiled, elf, tgt, arrays, workdir: Path) -> list[np.ndarray]:
    return run_model(elf, tgt, compiled.manifest["vlen"], arrays, compiled.manifest["outputs"], workdir)


def _differences(a: list[np.ndarray], b: list[np.ndarray], label: str) -> list[str]:
    """One line per output pair that is not identical (dtype, shape and every bit)."""
    lines = []
    if len(a) != len(b):
        return [f"{label}: {len(a)} outputs against {len(b)}"]
    for k, (x, y) in enumerate(zip(a, b)):
        if x.dtype != y.dtype or x.shape != y.shape:
            lines.append(f"{label} output {k}: {x.dtype}{x.shape} against {y.dtype}{y.shape}")
        elif not np.array_equal(x, y):
            diff = np.abs(x.astype(np.float64) - y.astype(np.float64))
            lines.append(f"{label} output {k}: max abs diff {diff.max():g}, "
                         f"{int(np.count_nonzero(diff))}/{diff.size} elements differ")
    return lines


def _int8_sets(model, count: int, seed: int) -> list[list[np.ndarray]]:
    """Seeded full-range int8 inputs, the last set only -128/127 (saturation)."""
    rng = np.random.default_rng(seed)
    sets = [[rng.integers(-128, 128, size=i.shape, dtype=np.int8) for i in model.inputs]
            for _ in range(count - 1)]
    sets.append([rng.choice(np.array([-128, 127], np.int8), size=i.shape) for i in model.inputs])
    return sets


# =========================================================================== dev zoo

@pytest.mark.parametrize("name", sorted(TFLITE_ZOO))
def test_tflite_int8_zoo_model_equals_firmware_and_tflite(models_dir, name, tmp_path):
    pytest.importorskip("ai_edge_litert")
    path = _model(models_dir, TFLITE_ZOO[name])
    compiled, elf, tgt = _compile_and_build(path, "host", tmp_path / "out")
    sets = _int8_sets(compiled.model, 3, seed=11)
    if name == "kws":
        sets.insert(0, [np.load(models_dir / KWS_SAMPLE)])
    problems, seconds = [], []
    for k, arrays in enumerate(sets):
        t0 = time.perf_counter()
        sim = simulate(compiled.graph, arrays)
        seconds.append(time.perf_counter() - t0)
        assert sim.exact
        got = _firmware(compiled, elf, tgt, arrays, tmp_path / f"io{k}")
        problems += _differences(sim.outputs, got, f"{name} set {k}: simulation vs firmware")
        problems += _differences(sim.outputs, compiled.model.reference(arrays),
                                 f"{name} set {k}: simulation vs TFLite")
    print(f"{name}: {len(compiled.graph.nodes)} nodes, simulated in "
          f"{', '.join(f'{s:.3f}' for s in seconds)} s; {len(sets) - len(problems)} sets checked")
    assert not problems, "\n".join(problems)
    assert max(seconds) < SIM_SECONDS_LIMIT


def _onnx_input_sets(path: Path, shape, count: int, seed: int) -> list[list[np.ndarray]]:
    """Uniform inputs over the model's first QuantizeLinear's range, and a little beyond."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    q = next(n for n in model.graph.node if n.op_type == "QuantizeLinear")
    scale, zp = float(inits[q.input[1]]), int(inits[q.input[2]])
    rng = np.random.default_rng(seed)
    return [[rng.uniform((-140 - zp) * scale, (140 - zp) * scale, size=shape).astype(np.float32)]
            for _ in range(count)]


@pytest.mark.parametrize("name", sorted(ONNX_ZOO))
def test_onnx_qdq_zoo_model_equals_firmware(models_dir, name, tmp_path):
    """The logits (cut at the last DequantizeLinear: int8 all the way) bit for bit with the
    firmware; the full model's float Softmax output within float32 rounding (approximate by
    design). Against onnxruntime: KWS logits identical, ResNet within one step (its float convs,
    tests/models/test_onnx_qdq_models.py)."""
    pytest.importorskip("onnxruntime")
    import onnx

    rel, logits = ONNX_ZOO[name]
    path = _model(models_dir, rel)
    shape = tuple(d.dim_value for d in onnx.load(str(path)).graph.input[0].type.tensor_type.shape.dim)
    sets = _onnx_input_sets(path, shape, 4, seed=5)

    cut, elf, tgt = _compile_and_build(path, "host", tmp_path / "logits", ImportOptions(output_names=(logits,)))
    problems, seconds, steps = [], [], []
    for k, arrays in enumerate(sets):
        t0 = time.perf_counter()
        sim = simulate(cut.graph, arrays)
        seconds.append(time.perf_counter() - t0)
        assert sim.exact
        problems += _differences(sim.outputs, _firmware(cut, elf, tgt, arrays, tmp_path / f"l{k}"),
                                 f"{name} logits set {k}: simulation vs firmware")
        ref = cut.model.reference(arrays)[0]
        step = float(next(n for n in reversed(cut.graph.nodes) if n.op == "dequantize_i8").params["scale"])
        steps.append(float(np.max(np.abs(sim.outputs[0].astype(np.float64) - ref))) / step)
    print(f"{name}: logits simulated in {', '.join(f'{s:.3f}' for s in seconds)} s, "
          f"steps from onnxruntime {['%.2f' % s for s in steps]}")
    assert not problems, "\n".join(problems)
    assert max(steps) <= (0 if name == "kaijiang-kws" else 1) + 1e-4

    full, elf, tgt = _compile_and_build(path, "host", tmp_path / "full")
    for k, arrays in enumerate(sets):
        sim = simulate(full.graph, arrays)
        assert not sim.exact   # the float Softmax
        (got,) = _firmware(full, elf, tgt, arrays, tmp_path / f"f{k}")
        assert sim.outputs[0].dtype == got.dtype == np.float32
        np.testing.assert_allclose(sim.outputs[0], got, rtol=1e-6, atol=1e-7)


def test_c906_firmware_equals_simulation(models_dir, tmp_path):
    """The RVV 0.7.1 kernels under QEMU: the same bits as the simulation (KWS int8)."""
    pytest.importorskip("ziglang")
    pytest.importorskip("qemu")
    path = _model(models_dir, TFLITE_ZOO["kws"])
    compiled, elf, tgt = _compile_and_build(path, "c906", tmp_path / "out")
    sets = [[np.load(models_dir / KWS_SAMPLE)]] + _int8_sets(compiled.model, 2, seed=3)
    problems = []
    for k, arrays in enumerate(sets):
        problems += _differences(simulate(compiled.graph, arrays).outputs,
                                 _firmware(compiled, elf, tgt, arrays, tmp_path / f"io{k}"),
                                 f"kws c906 set {k}: simulation vs firmware")
    assert not problems, "\n".join(problems)


def test_kept_tensors_match_a_firmware_cut_mid_graph(models_dir, tmp_path):
    """keep=True: every node output by tensor name; a mid-graph one equals the firmware of the
    model cut there (-on), so per-layer values are the firmware's too."""
    path = _model(models_dir, TFLITE_ZOO["kws"])
    compiled, _, _ = _compile_and_build(path, "host", tmp_path / "full")
    arrays = [np.load(models_dir / KWS_SAMPLE)]
    sim = simulate(compiled.graph, arrays, keep=True)
    assert len(sim.tensors) == len(compiled.graph.nodes)
    for node in compiled.graph.nodes:
        kept = sim.tensors[node.output.name]
        assert kept.shape == node.output.shape and kept.dtype == np.dtype(node.output.dtype)
    assert np.array_equal(sim.tensors[compiled.graph.outputs[0].name], sim.outputs[0])
    pool = next(n for n in compiled.graph.nodes if n.op == "pool2d_i8").output.name
    cut, elf, tgt = _compile_and_build(path, "host", tmp_path / "cut", ImportOptions(output_names=(pool,)))
    (got,) = _firmware(cut, elf, tgt, arrays, tmp_path / "io")
    assert np.array_equal(got.reshape(-1), sim.tensors[pool].reshape(-1))


# =========================================================================== op-level models

def _tflite_cases():
    from tflite_int8_cases import CASES, FLOAT_IO_CASES
    from tflite_int8_math2_cases import CASES as MATH2
    from tflite_int8_math_cases import CASES as MATH
    from tflite_int8_resample_cases import CASES as RESAMPLE

    return CASES + MATH + RESAMPLE + MATH2 + FLOAT_IO_CASES


try:
    TFLITE_CASES = _tflite_cases()
except ImportError:   # the op tests' case tables need tflite (the flatbuffer reader)
    TFLITE_CASES = []


def _case_inputs(model, case) -> list[list[np.ndarray]]:
    if not case.float_io:
        return _int8_sets(model, 2, seed=case.seed())
    rng = np.random.default_rng(case.seed())
    ranges = case.ranges or (1.0,) * len(case.inputs)
    return [[(rng.standard_normal(i.shape) * r * wide).astype(np.float32) for i, r in zip(model.inputs, ranges)]
            for wide in (1, 4)]


@pytest.fixture(scope="session")
def case_model(tmp_path_factory):
    root = tmp_path_factory.mktemp("sim_cases")

    def get(case) -> Path:
        from tflite_int8_cases import convert

        path = root / f"{case.id}.tflite"
        if not path.exists():
            path.write_bytes(convert(case))
        return path
    return get


@pytest.mark.parametrize("case", TFLITE_CASES, ids=[c.id for c in TFLITE_CASES])
def test_tflite_int8_op_model_equals_firmware_and_tflite(case, case_model, tmp_path):
    pytest.importorskip("tensorflow")
    pytest.importorskip("ai_edge_litert")
    compiled, elf, tgt = _compile_and_build(case_model(case), "host", tmp_path / "out")
    problems = []
    for k, arrays in enumerate(_case_inputs(compiled.model, case)):
        sim = simulate(compiled.graph, arrays)
        assert sim.exact, {n.op for n in compiled.graph.nodes}
        problems += _differences(sim.outputs, _firmware(compiled, elf, tgt, arrays, tmp_path / f"io{k}"),
                                 f"{case.id} set {k}: simulation vs firmware")
        problems += _differences(sim.outputs, compiled.model.reference(arrays),
                                 f"{case.id} set {k}: simulation vs TFLite")
    assert not problems, "\n".join(problems)


def test_tflite_int8_float_io_model_equals_firmware(tmp_path):
    """tests/frontends/tflite_gen.py's int8 model with float IO (QUANTIZE in, DEQUANTIZE out)."""
    pytest.importorskip("tensorflow")
    pytest.importorskip("ai_edge_litert")
    from tflite_gen import int8_float_io

    path = tmp_path / "int8_float_io.tflite"
    path.write_bytes(int8_float_io())
    compiled, elf, tgt = _compile_and_build(path, "host", tmp_path / "out")
    assert {"quantize_i8", "dequantize_i8"} <= {n.op for n in compiled.graph.nodes}
    rng = np.random.default_rng(4)
    problems = []
    for k in range(3):
        arrays = [(rng.standard_normal(i.shape) * (1 + k)).astype(np.float32) for i in compiled.model.inputs]
        sim = simulate(compiled.graph, arrays)
        assert sim.exact
        problems += _differences(sim.outputs, _firmware(compiled, elf, tgt, arrays, tmp_path / f"io{k}"),
                                 f"set {k}: simulation vs firmware")
        problems += _differences(sim.outputs, compiled.model.reference(arrays), f"set {k}: simulation vs TFLite")
    assert not problems, "\n".join(problems)


def test_hybrid_weight_only_model_within_float_tolerance(tmp_path):
    """tflite_gen's dynamic-range model (the *_w8 kernels: float activations, int8 weights):
    float ops, so within hhbc's float tolerance of the firmware, not bit for bit."""
    pytest.importorskip("tensorflow")
    from tflite_gen import hybrid_weights

    from hhbc.compare import compare

    path = tmp_path / "hybrid.tflite"
    path.write_bytes(hybrid_weights())
    compiled, elf, tgt = _compile_and_build(path, "host", tmp_path / "out")
    assert {n.op for n in compiled.graph.nodes} & {"conv2d_w8", "depthwise_conv2d_w8", "dense_w8"}
    rng = np.random.default_rng(9)
    for k in range(2):
        arrays = [rng.standard_normal(i.shape).astype(np.float32) for i in compiled.model.inputs]
        sim = simulate(compiled.graph, arrays)
        assert not sim.exact
        for s, g in zip(sim.outputs, _firmware(compiled, elf, tgt, arrays, tmp_path / f"io{k}")):
            c = compare("output", s, g)
            assert c.ok, c.line()


def _qdq_cases():
    try:
        import test_onnx_qdq as qdq
    except (ImportError, pytest.skip.Exception):   # it skips itself without onnxruntime
        return None, {}
    return qdq, qdq.CASES


QDQ, QDQ_CASES = _qdq_cases()


@pytest.mark.parametrize("case", sorted(QDQ_CASES))
def test_onnx_qdq_op_model_equals_firmware_and_onnxruntime(case, tmp_path):
    pytest.importorskip("onnxruntime")
    path = QDQ._save(QDQ_CASES[case](), tmp_path)
    compiled, elf, tgt = _compile_and_build(path, "host", tmp_path / "out")
    rng = np.random.default_rng(7)
    steps, step = QDQ.STEP_BOUND.get(case, (0, 0.0))
    problems = []
    for k in range(3):
        arrays = [rng.uniform(-140 * QDQ.IN_SCALE, 140 * QDQ.IN_SCALE, size=i.shape).astype(np.float32)
                  for i in compiled.model.inputs]
        sim = simulate(compiled.graph, arrays)
        assert sim.exact, {n.op for n in compiled.graph.nodes}
        problems += _differences(sim.outputs, _firmware(compiled, elf, tgt, arrays, tmp_path / f"io{k}"),
                                 f"{case} set {k}: simulation vs firmware")
        ref = compiled.model.reference(arrays)[0]
        diff = np.abs(sim.outputs[0].astype(np.float64) - ref.astype(np.float64))
        if np.any(diff > steps * step * (1 + 1e-6)):
            problems.append(f"{case} set {k}: simulation vs onnxruntime: max abs diff {diff.max():g}")
    assert not problems, "\n".join(problems)


def _onnx_op_cases():
    """The op cases with int8 nodes, and every 10th float one (the float ops are approximate by
    design and each case costs a host build: a sample keeps the suite short)."""
    try:
        from onnx_cases import CASES
    except ImportError:
        return []
    quantized = [c for c in CASES if any(n.op_type in ("QuantizeLinear", "DequantizeLinear")
                                         for n in c.model().graph.node)]
    floats = [c for c in CASES if c not in quantized]
    return quantized + floats[::10]


ONNX_OP_CASES = _onnx_op_cases()
INT8_OPS = frozenset(op for op in sim_mod.OPS if op.endswith("_i8"))


@pytest.mark.parametrize("case", ONNX_OP_CASES, ids=[c.id for c in ONNX_OP_CASES])
def test_onnx_op_model_equals_firmware(case, tmp_path):
    """tests/ops/onnx_cases.py: the graphs with int8 nodes (QuantizeLinear/DequantizeLinear round
    trips) bit for bit; float graphs made only of ops the simulation models, within hhbc's float
    tolerance (the float ops are approximate by design); a graph with a float op it does not
    model (convolutions, pools, ...) is refused by kernel op and layer."""
    import onnx

    from hhbc.compare import compare

    path = tmp_path / f"{case.id}.onnx"
    onnx.save(case.model(), path)
    compiled = compile_model(path, get_target("host"), tmp_path / "out")
    ops = {n.op for n in compiled.graph.nodes}
    arrays = case.input_arrays()
    unknown = sorted(ops - set(sim_mod.OPS))
    if unknown:
        with pytest.raises(HhbcError, match=rf"^host simulation: no model of kernel op '({'|'.join(unknown)})'"):
            simulate(compiled.graph, arrays)
        pytest.skip(f"float ops the simulation does not model: {', '.join(unknown)}")
    try:
        sim = simulate(compiled.graph, arrays)
    except HhbcError as err:   # a modeled op in a variant it refuses (e.g. a float resize mode)
        assert str(err).startswith("host simulation: no model of kernel op"), err
        pytest.skip(str(err))
    tgt = get_target("host")
    got = _firmware(compiled, build(tmp_path / "out", tgt), tgt, arrays, tmp_path / "io")
    if ops & INT8_OPS or sim.exact:
        assert sim.exact, ops
        problems = _differences(sim.outputs, got, f"{case.id}: simulation vs firmware")
        assert not problems, "\n".join(problems)
        return
    for name, s, g in zip(case.outputs, sim.outputs, got):
        assert s.dtype == g.dtype and s.shape == g.shape, (name, s.dtype, s.shape, g.dtype, g.shape)
        c = compare(name, s, g)
        assert c.ok, c.line()


ASYM_CASES = ["conv-per-channel", "conv-per-tensor", "depthwise-per-channel", "gemm-per-channel",
              "gemm-per-tensor", "conv-relu6"]


@pytest.mark.parametrize("case", [c for c in ASYM_CASES if c in QDQ_CASES])
def test_asymmetric_weights_equal_firmware(case, tmp_path):
    """The QDQ graphs above with nonzero int8 weight zero points (the weight_zp path of the
    conv, depthwise and dense kernels): bit for bit with the firmware."""
    pytest.importorskip("onnxruntime")
    from onnx import numpy_helper

    model = QDQ_CASES[case]()
    rng = np.random.default_rng(13)
    changed = 0
    for k, init in enumerate(model.graph.initializer):
        if init.name.startswith("wz"):
            zp = numpy_helper.to_array(init)
            model.graph.initializer[k].CopyFrom(numpy_helper.from_array(
                rng.integers(-40, 41, size=zp.shape).astype(np.int8), init.name))
            changed += 1
    assert changed
    path = QDQ._save(model, tmp_path)
    compiled, elf, tgt = _compile_and_build(path, "host", tmp_path / "out")
    assert any("weight_zp" in n.consts for n in compiled.graph.nodes)
    problems = []
    for k in range(3):
        arrays = [rng.uniform(-140 * QDQ.IN_SCALE, 140 * QDQ.IN_SCALE, size=i.shape).astype(np.float32)
                  for i in compiled.model.inputs]
        problems += _differences(simulate(compiled.graph, arrays).outputs,
                                 _firmware(compiled, elf, tgt, arrays, tmp_path / f"io{k}"),
                                 f"{case} (asymmetric weights) set {k}: simulation vs firmware")
    assert not problems, "\n".join(problems)


# =========================================================================== the arithmetic

def test_rounding_shift_and_doubling_multiply_are_gemmlowps():
    """rdbpot and srdhm against their definitions in exact rational arithmetic."""
    from fractions import Fraction

    rng = np.random.default_rng(1)
    xs = np.concatenate([rng.integers(-2**31, 2**31, 4000), [-2**31, 2**31 - 1, -1, 0, 1, -6, 6, -5, 5, -2**30]])
    for e in (0, 1, 2, 7, 19, 31, 32, 35):
        got = sim_mod.rdbpot(xs, e)
        for x, g in zip(xs[::97].tolist() + xs[-10:].tolist(), got[::97].tolist() + got[-10:].tolist()):
            q = Fraction(x, 2**e)
            want = int(q + Fraction(1, 2)) if q >= 0 else -int(-q + Fraction(1, 2))   # half away from zero
            assert g == want, (x, e, g, want)
    bs = rng.integers(-2**31, 2**31, xs.size)
    got = sim_mod.srdhm(xs, bs)
    for a, b, g in zip(xs.tolist()[::37], bs.tolist()[::37], got.tolist()[::37]):
        q = Fraction(a * b, 2**31)
        want = int(q + Fraction(1, 2)) if q >= 0 else -int(-q + Fraction(1, 2))
        assert g == want, (a, b, g, want)
    assert int(sim_mod.srdhm(-2**31, -2**31)) == 2**31 - 1


def test_float_rounding_steps_have_no_double_rounding():
    """roundf's ties away from zero on values where x + 0.5 would round up, and the ONNX
    flavour's ties to even."""
    v = np.array([0.49999997, -0.49999997, 2.5, -2.5, 1.5, 8388607.5], np.float32)
    assert sim_mod.round_half_away(v).tolist() == [0.0, -0.0, 3.0, -3.0, 2.0, 8388608.0]
    assert sim_mod.quantize_f32(np.array([2.5, -2.5, 3.5, 300.0, np.nan], np.float32), 1, -128, 127).tolist() == \
        [3, -1, 5, 127, -128]


def test_an_unknown_kernel_op_is_refused_by_layer():
    x = Tensor("x", (4,), "int8", kind="input")
    y = Tensor("y", (4,), "int8", kind="output")
    graph = KernelGraph([x], [y], [Node("frobnicate_i8", [x], y, {}, {}, "Frob_3")])
    with pytest.raises(HhbcError, match=r"^host simulation: no model of kernel op 'frobnicate_i8' \(layer 'Frob_3'\)$"):
        simulate(graph, [np.zeros(4, np.int8)])
    with pytest.raises(HhbcError, match="1 input"):
        simulate(graph, [])
    with pytest.raises(HhbcError, match="'x' is int8, not float32"):
        simulate(graph, [np.zeros(4, np.float32)])
