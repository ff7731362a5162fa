"""The peer quantizers hhbc's post-training quantization is measured against (issue 14).

On the same float model, the same calibration set and the same evaluation set:
- onnxruntime's `quantize_static` for the ONNX models: QDQ, per-channel weights, int8 (QInt8)
  activations and weights (ORT's defaults: asymmetric activations, symmetric weights), after
  `quant_pre_process` (and a conversion to opset 13 for older models); calibration MinMax,
  Entropy (quantize_static's defaults), Entropy with 2048 histogram bins, and Percentile
  (99.999, ORT's default). The quantized model runs on onnxruntime's CPU provider.
- TFLite full-integer quantization (int8 activations, int8 per-channel weights):
  - the ARM KWS frozen graphs (.pb): TensorFlow's own TFLite converter
    (`from_frozen_graph` cut at `Mfcc`, `representative_dataset`, TFLITE_BUILTINS_INT8, float IO);
  - the TFLite float models: their source (Keras / SavedModel) is not available, so the
    converter cannot be run on them; Google's `ai-edge-quantizer` quantizes the .tflite file
    itself (recipe `static_wi8_ai8`: int8 asymmetric activations, int8 symmetric per-channel
    weights), calibrated two ways: its default (a moving average of per-sample min/max) and
    its global min/max update (what the TFLite converter's calibration records); the package describes itself
    as "a quantizer for advanced developers to quantize converted AI Edge models".
  Both quantized models run on ai-edge-litert's interpreter.
The float reference is the one `hhbc run` compares against: `load_model(path).reference`.

`peer_results(model, split)` -> {"onnxruntime MinMax": PeerResult, ...}.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hhbc.frontends import ImportOptions, load_model
from hhbc.quantize.metrics import OutputAccuracy, accuracy

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT.parent / "shared" / "models"

ORT_METHODS = ("MinMax", "Entropy", "Entropy-2048", "Percentile")
# hhbc's --calibrate-mode -> the onnxruntime method of the same idea
ORT_FOR_MODE = {"maxmin": ("MinMax",), "kl_divergence": ("Entropy", "Entropy-2048"), "percentile": ("Percentile",)}
# ARM KWS frozen graphs: cut at the MFCC (as tests/models/test_tf_models.py does)
PB_INPUT, PB_OUTPUT = "Mfcc", "labels_softmax"


@dataclass
class PeerResult:
    """One peer quantizer on one model, over the evaluation set, against the float model.
    `top1` / `sqnr_db` are those of the first output (every peer-compared model has one)."""

    peer: str
    top1: float | None
    sqnr_db: float
    seconds: float                  # quantizing (calibration included) and running eval
    outputs: list[OutputAccuracy] = field(default_factory=list)
    note: str = ""

    def to_json(self) -> dict:
        return {"peer": self.peer, "top1": self.top1, "sqnr_db": _num(self.sqnr_db),
                "seconds": self.seconds, "note": self.note,
                "outputs": [{"name": o.name, "samples": o.samples, "sqnr_db": _num(o.sqnr_db),
                             "top1": o.top1, "max_abs": o.max_abs, "max_rel": _num(o.max_rel),
                             "what": o.what} for o in self.outputs]}

    @classmethod
    def from_json(cls, d: dict) -> "PeerResult":
        outs = [OutputAccuracy(name=o["name"], samples=o["samples"], sqnr_db=_unnum(o["sqnr_db"]),
                               top1=o["top1"], max_abs=o["max_abs"], max_rel=_unnum(o["max_rel"]),
                               what=o["what"]) for o in d["outputs"]]
        return cls(peer=d["peer"], top1=d["top1"], sqnr_db=_unnum(d["sqnr_db"]),
                   seconds=d["seconds"], outputs=outs, note=d.get("note", ""))


def _num(x: float):
    return x if math.isfinite(x) else ("inf" if x > 0 else "-inf")


def _unnum(x) -> float:
    return float(x)


def model_path(model: str) -> Path:
    return MODELS / model


def import_options(model: str, sample_shape: tuple[int, ...]) -> ImportOptions:
    """What hhbc needs beyond the file: the ARM .pb graphs are cut at the MFCC."""
    if model.endswith(".pb"):
        return ImportOptions((f"{PB_INPUT}:0",), ((1, *sample_shape),), (f"{PB_OUTPUT}:0",))
    return ImportOptions()


# The int8 files MLPerf Tiny publishes beside its float models: made by the TFLite converter
# from the same training run, calibrated on MLPerf's own data (not ours), so informative only.
MLPERF_INT8 = {
    "tflite/mlperf_tiny/kws_ref_model_float32.tflite": "tflite/mlperf_tiny/kws_ref_model.tflite",
    "tflite/mlperf_tiny/vww_96_float.tflite": "tflite/mlperf_tiny/vww_96_int8.tflite",
    "tflite/mlperf_tiny/pretrainedResnet.tflite": "tflite/mlperf_tiny/pretrainedResnet_quant.tflite",
    "tflite/mlperf_tiny/ad01_fp32.tflite": "tflite/mlperf_tiny/ad01_int8.tflite",
}
MLPERF_KEY = "MLPerf int8 file (own calibration)"
AEQ_GLOBAL = "TFLite ai-edge-quantizer global min-max"
# The same quantized models run on TFLite's reference kernels (BUILTIN_REF: TFLite Micro's
# arithmetic, and the one hhbc's int8 kernels implement) instead of the interpreter's default
# XNNPACK ones, which requantize in float: shown for information.
REF_SUFFIX = " (reference kernels)"
AEQ_GLOBAL_REF = AEQ_GLOBAL + REF_SUFFIX
CONVERTER_REF = "TFLite converter" + REF_SUFFIX


def peers_for(model: str) -> tuple[str, ...]:
    """The peer keys that apply to a model (none for Caffe: neither peer reads it)."""
    if model.endswith(".onnx"):
        return tuple(f"onnxruntime {m}" for m in ORT_METHODS)
    if model.endswith(".pb"):
        return ("TFLite converter", CONVERTER_REF)
    if model.endswith(".tflite"):
        return ("TFLite ai-edge-quantizer", AEQ_GLOBAL, AEQ_GLOBAL_REF) + \
            ((MLPERF_KEY,) if model in MLPERF_INT8 else ())
    return ()


def is_informative(key: str) -> bool:
    """Shown in the tables but not a peer to beat: not calibrated on the same data, or a peer
    already counted, run on other kernels."""
    return key == MLPERF_KEY or key.endswith(REF_SUFFIX)


# ---------------------------------------------------------------- float reference
def float_outputs(model: str, eval_set: np.ndarray) -> tuple[list[str], list[list[np.ndarray]]]:
    """(output names, per eval sample the float outputs), from the framework hhbc run uses."""
    imported = load_model(model_path(model), import_options(model, eval_set.shape[1:]))
    names = [o.name for o in imported.outputs]
    outs = [[np.asarray(y, np.float32) for y in imported.reference([x[None]])] for x in eval_set]
    return names, outs


def compare(peer: str, names: list[str], refs: list[list[np.ndarray]], gots: list[list[np.ndarray]],
            seconds: float, note: str = "") -> PeerResult:
    outs = []
    for k, name in enumerate(names):
        r = [s[k].reshape(-1) for s in refs]
        g = [s[k].reshape(-1) for s in gots]
        outs.append(accuracy(name, r, g, what=f"{peer} vs float"))
    return PeerResult(peer=peer, top1=outs[0].top1, sqnr_db=outs[0].sqnr_db, seconds=seconds,
                      outputs=outs, note=note)


def peer_results(model: str, split, peers: tuple[str, ...] | None = None,
                 refs: tuple[list[str], list[list[np.ndarray]]] | None = None) -> dict[str, PeerResult]:
    """Every peer that applies to `model` (a path under ../shared/models), calibrated on
    `split.calib` and measured on `split.eval` against the float model."""
    peers = peers_for(model) if peers is None else peers
    if not peers:
        return {}
    names, ref = refs if refs is not None else float_outputs(model, split.eval)
    calib = np.asarray(split.calib, np.float32)
    evals = np.asarray(split.eval, np.float32)
    results = {}
    ort_methods = [p.split(" ", 1)[1] for p in peers if p.startswith("onnxruntime ")]
    for method in ort_methods:
        start = time.perf_counter()
        got = _onnxruntime(model_path(model), calib, evals, method)
        results[f"onnxruntime {method}"] = compare(f"onnxruntime {method}", names, ref, got,
                                                   time.perf_counter() - start)
    if "TFLite converter" in peers:
        start = time.perf_counter()
        got = _tflite_converter_pb(model_path(model), calib, evals)
        results["TFLite converter"] = compare("TFLite converter", names, ref, got, time.perf_counter() - start,
                                              "tf.lite converter, full integer, float IO")
    if CONVERTER_REF in peers:
        start = time.perf_counter()
        got = _litert_run(tflite_converter_model(model_path(model), calib), evals, reference=True)
        results[CONVERTER_REF] = compare(CONVERTER_REF, names, ref, got, time.perf_counter() - start,
                                         "the converter's model on TFLite's reference kernels")
    if AEQ_GLOBAL_REF in peers:
        start = time.perf_counter()
        got = _litert_run(ai_edge_quantized_model(model_path(model), calib, True), evals, reference=True)
        results[AEQ_GLOBAL_REF] = compare(AEQ_GLOBAL_REF, names, ref, got, time.perf_counter() - start,
                                          "the global min-max model on TFLite's reference kernels")
    if "TFLite ai-edge-quantizer" in peers:
        start = time.perf_counter()
        got = _ai_edge_quantizer(model_path(model), calib, evals)
        results["TFLite ai-edge-quantizer"] = compare(
            "TFLite ai-edge-quantizer", names, ref, got, time.perf_counter() - start,
            "ai-edge-quantizer static_wi8_ai8 (moving-average min-max, its default) on the .tflite file")
    if AEQ_GLOBAL in peers:
        start = time.perf_counter()
        got = _ai_edge_quantizer(model_path(model), calib, evals, global_minmax=True)
        results[AEQ_GLOBAL] = compare(
            AEQ_GLOBAL, names, ref, got, time.perf_counter() - start,
            "ai-edge-quantizer static_wi8_ai8 with its min_max_update (global min-max) calibrator")
    if MLPERF_KEY in peers and (model_path(MLPERF_INT8[model])).exists():
        start = time.perf_counter()
        got = _litert_run(model_path(MLPERF_INT8[model]).read_bytes(), evals)
        results[MLPERF_KEY] = compare(MLPERF_KEY, names, ref, got, time.perf_counter() - start,
                                      f"{MLPERF_INT8[model]} as published, on our eval set")
    return results


# ---------------------------------------------------------------- onnxruntime
def _onnxruntime(path: Path, calib: np.ndarray, evals: np.ndarray, method: str) -> list[list[np.ndarray]]:
    import onnx
    import onnxruntime as ort

    buf = onnxruntime_quantized(path, calib, method)
    model = onnx.load_from_string(buf)
    inits = {i.name for i in model.graph.initializer}
    input_name = next(i.name for i in model.graph.input if i.name not in inits)
    sess = ort.InferenceSession(buf, providers=["CPUExecutionProvider"])
    return [[np.asarray(y, np.float32) for y in sess.run(None, {input_name: x[None]})] for x in evals]


def onnxruntime_quantized(path: Path, calib: np.ndarray, method: str) -> bytes:
    """onnxruntime's QDQ model (serialized) of a float ONNX model, calibrated on `calib`.
    `method`: a CalibrationMethod name as quantize_static takes it, or "Entropy-2048":
    quantize_static's Entropy keeps the calibrator's defaults of 128 histogram bins for 128
    quantized bins, where the KL search has a single candidate (the whole range: MinMax's
    result). "Entropy-2048" runs onnxruntime's own entropy calibrator with 2048 bins (TensorRT's
    setting) and hands its ranges to quantize_static through its calibration cache."""
    import onnx
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                          QuantType, quantize_static)
    from onnxruntime.quantization.calibrate import create_calibrator, save_tensors_data
    from onnxruntime.quantization.shape_inference import quant_pre_process

    model = onnx.load(str(path))
    inits = {i.name for i in model.graph.initializer}
    input_name = next(i.name for i in model.graph.input if i.name not in inits)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self._it = iter(calib)

        def get_next(self):
            x = next(self._it, None)
            return None if x is None else {input_name: x[None]}

    with tempfile.TemporaryDirectory(prefix="hhbc-peer-ort-") as tmp:
        pre = Path(tmp) / "pre.onnx"
        out = Path(tmp) / "q.onnx"
        src = Path(tmp) / "src.onnx"
        onnx.save(_ort_ready(model), str(src))
        quant_pre_process(str(src), str(pre))
        kwargs = {}
        calib_method = method
        if method == "Entropy-2048":
            calib_method = "Entropy"
            calibrator = create_calibrator(pre, augmented_model_path=str(Path(tmp) / "augmented.onnx"),
                                           calibrate_method=CalibrationMethod.Entropy,
                                           extra_options={"num_bins": 2048, "num_quantized_bins": 128})
            calibrator.collect_data(Reader())
            cache = Path(tmp) / "ranges.json"
            save_tensors_data(calibrator.compute_data(), cache)
            del calibrator
            kwargs["calibration_cache_path"] = str(cache)
        quantize_static(str(pre), str(out), None if kwargs else Reader(), quant_format=QuantFormat.QDQ,
                        per_channel=True, activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                        calibrate_method=getattr(CalibrationMethod, calib_method), **kwargs)
        buf = out.read_bytes()
    if b"QuantizeLinear" not in buf:
        raise RuntimeError(f"{path.name}: onnxruntime {method} quantized nothing")
    return buf


def _ort_ready(model):
    """The same computation, in a form quantize_static handles:
    - opset 13 at least: per-channel QDQ needs DequantizeLinear's axis; ORT's own automatic
      upgrade stops at 11 and writes an invalid model, so convert first, as ORT advises;
    - a Gemm's 2-D bias of shape (1, N) (opt-mnist) as (N,): ORT 1.32's per-channel bias
      check indexes it per channel and fails on the 2-D array (broadcasting makes them equal)."""
    import onnx
    from onnx import numpy_helper, version_converter

    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    if opset < 13:
        model = version_converter.convert_version(model, 13)
    inits = {i.name: i for i in model.graph.initializer}
    users = {}
    for node in model.graph.node:
        for name in node.input:
            users[name] = users.get(name, 0) + 1
    for node in model.graph.node:
        if node.op_type == "Gemm" and len(node.input) > 2 and node.input[2] in inits and users[node.input[2]] == 1:
            bias = inits[node.input[2]]
            if len(bias.dims) == 2 and bias.dims[0] == 1:
                flat = numpy_helper.from_array(numpy_helper.to_array(bias).reshape(-1), bias.name)
                bias.CopyFrom(flat)
                for vi in model.graph.input:      # IR < 4 lists initializers as inputs too
                    if vi.name == bias.name:
                        dims = vi.type.tensor_type.shape.dim
                        del dims[0]
    onnx.checker.check_model(model)
    return model


# ---------------------------------------------------------------- TFLite
def _litert_run(buf: bytes, evals: np.ndarray, reference: bool = False) -> list[list[np.ndarray]]:
    """The quantized model on ai-edge-litert's interpreter (default kernels, or with `reference`
    TFLite's reference kernels). An int8 input is quantized and an int8 output dequantized here
    as TFLite's QUANTIZE / DEQUANTIZE would (round half away from zero, saturate)."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    kind = {"experimental_op_resolver_type": OpResolverType.BUILTIN_REF} if reference else {}
    interp = Interpreter(model_content=buf, num_threads=1, **kind)
    interp.allocate_tensors()
    (inp,) = interp.get_input_details()
    outs = interp.get_output_details()
    results = []
    for x in evals:
        x = x.reshape(inp["shape"])
        if inp["dtype"] == np.int8:
            scale, zero = inp["quantization"]
            v = x.astype(np.float64) / scale
            q = np.sign(v) * np.floor(np.abs(v) + 0.5) + zero
            x = np.clip(q, -128, 127).astype(np.int8)
        interp.set_tensor(inp["index"], x.astype(inp["dtype"]))
        interp.invoke()
        sample = []
        for o in outs:
            y = interp.get_tensor(o["index"])
            if o["dtype"] == np.int8:
                scale, zero = o["quantization"]
                y = (y.astype(np.float32) - zero) * np.float32(scale)
            sample.append(np.asarray(y, np.float32))
        results.append(sample)
    return results


def _tflite_converter_pb(path: Path, calib: np.ndarray, evals: np.ndarray) -> list[list[np.ndarray]]:
    return _litert_run(tflite_converter_model(path, calib), evals)


def tflite_converter_model(path: Path, calib: np.ndarray) -> bytes:
    """The TFLite converter's full-integer model of an ARM KWS frozen graph, cut at the MFCC."""
    import tensorflow as tf

    shape = [1, *calib.shape[1:]]
    conv = tf.compat.v1.lite.TFLiteConverter.from_frozen_graph(
        str(path), input_arrays=[PB_INPUT], output_arrays=[PB_OUTPUT], input_shapes={PB_INPUT: shape})
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([x[None]] for x in calib)
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    buf = conv.convert()
    _check_int8(buf, path)
    return buf


def float_tflite(path: Path) -> bytes:
    """The float computation a .tflite stands for, as hhbc's reference runs it: a hybrid model's
    int8 weights dequantized (kws_ref_model_float32 has int8 conv weights), float16 weights
    widened."""
    from hhbc.frontends.tflite import hybrid_weights, read_tflite
    from hhbc.frontends.tflite_rewrite import dequantized_weights, plain_weights

    buf = path.read_bytes()
    graph = read_tflite(path, buf)
    plain = plain_weights(graph, buf, path)
    if plain is not buf:
        graph = read_tflite(path, plain)
    hybrid = hybrid_weights(graph)
    return dequantized_weights(plain, hybrid, path) if hybrid else plain


def for_ai_edge_quantizer(buf: bytes) -> bytes:
    """The same model, written so that ai-edge-quantizer reads it right; the computation is
    untouched:
    - a 'serving_default' SignatureDef over the subgraph's IO: the MLPerf Tiny files have none,
      and ai-edge-quantizer addresses calibration data by signature;
    - each operator code's `builtin_code` filled in: files from converters before schema 3a
      leave it 0 (ADD) and keep the op in `deprecated_builtin_code` (readers take the larger
      of the two); ai-edge-quantizer reads only `builtin_code` and would quantize every op
      as an ADD (per-tensor asymmetric weights, which the int8 kernels then refuse)."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(bytearray(buf), 0)
    for code in model.operatorCodes:
        code.builtinCode = max(code.builtinCode, code.deprecatedBuiltinCode)
    sg = model.subgraphs[0]

    def tensor_map(index: int):
        m = schema.TensorMapT()
        m.name = sg.tensors[index].name.decode()
        m.tensorIndex = int(index)
        return m

    sig = schema.SignatureDefT()
    sig.signatureKey = "serving_default"
    sig.subgraphIndex = 0
    sig.inputs = [tensor_map(i) for i in sg.inputs]
    sig.outputs = [tensor_map(i) for i in sg.outputs]
    model.signatureDefs = [sig]
    builder = flatbuffers.Builder(len(buf) * 2 + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _ai_edge_quantizer(path: Path, calib: np.ndarray, evals: np.ndarray,
                       global_minmax: bool = False) -> list[list[np.ndarray]]:
    return _litert_run(ai_edge_quantized_model(path, calib, global_minmax), evals)


def ai_edge_quantized_model(path: Path, calib: np.ndarray, global_minmax: bool = False) -> bytes:
    """ai-edge-quantizer's static int8 model of a float .tflite, calibrated on `calib`.

    By default ai-edge-quantizer's calibrator keeps a moving average (factor 0.95) of each
    sample's min and max, so its ranges are not the calibration set's extremes. With
    `global_minmax` its calibrator takes the package's own `min_max_update` instead: the
    smallest min and largest max over all samples, as the TFLite converter's calibration
    records them. (Quantizer.calibrate does not take the update function, so this builds the
    Calibrator itself with the Quantizer's recipe.)"""
    from ai_edge_litert.interpreter import Interpreter
    from ai_edge_quantizer import calibrator, quantizer, recipe
    from ai_edge_quantizer.utils import qsv_utils

    buf = for_ai_edge_quantizer(float_tflite(path))
    sig = Interpreter(model_content=buf).get_signature_list()["serving_default"]
    (name,) = sig["inputs"]
    shape = [1, *calib.shape[1:]]
    q = quantizer.Quantizer(buf)
    q.load_quantization_recipe(recipe.static_wi8_ai8())
    samples = {"serving_default": [{name: x.reshape(shape)} for x in calib]}
    if global_minmax:
        c = calibrator.Calibrator(buf, num_threads=1, qsv_update_func=qsv_utils.min_max_update)
        c.calibrate(samples, q._recipe_manager)
        cal = c.get_model_qsvs()
    else:
        cal = q.calibrate(samples, num_threads=1)
    qbuf = bytes(q.quantize(cal, enable_progress_report=False).quantized_model)
    _check_int8(qbuf, path)
    return qbuf


def _check_int8(buf: bytes, path: Path) -> None:
    """Full integer: every op's activations int8 (a peer that left the model float would
    compare as SQNR = inf and hide it)."""
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_content=buf)
    tensors = {t["index"]: t for t in interp.get_tensor_details()}
    float_ops = []
    for op in interp._get_ops_details():
        if op["op_name"] in ("QUANTIZE", "DEQUANTIZE"):
            continue
        if any(tensors[i]["dtype"] == np.float32 for i in op["outputs"] if i >= 0):
            float_ops.append(op["op_name"])
    if float_ops:
        raise RuntimeError(f"{path.name}: the peer left float ops: {sorted(set(float_ops))}")
