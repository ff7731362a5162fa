"""The Relax graph pipeline: each stage a named pass, each reported under -v."""

from __future__ import annotations

import sys
from collections import Counter

import tvm
from tvm import relax

from hhbc.layers import keeping_layers
from hhbc.optimize.fusion import fusion_patterns
from hhbc.optimize.qdq_onnx import check_no_float_between_qdq, is_onnx_qdq, normalize_onnx_qdq, raise_deferred
from hhbc.optimize.quantized import fuse_quantized, is_quantized
from hhbc.optimize.weight_only import fuse_weight_only
from hhbc.optimize.rewrites import (ClipFromMinMax, ClipToMinMax, FoldBatchNorm, FoldTransposeIntoDense,
                                    MergeReshapes, SimplifyTranspose, SpatialOpsToNHWC)

# Target layouts: activations NHWC, conv weights OHWI (DESIGN: one layout for kernels).
# Pools follow their input's layout (TVM's ConvertLayout refuses a desired layout for
# them); resize2d takes one. Whatever spatial op stays NCHW (e.g. a model starting
# with a pool) is converted by SpatialOpsToNHWC.
NHWC_LAYOUTS = {
    "relax.nn.conv2d": ["NHWC", "OHWI"],
    "relax.nn.conv2d_transpose": ["NHWC", "IOHW"],   # lowering repacks the weights itself
    "relax.image.resize2d": ["NHWC"],
}


def _stages() -> list[tuple[str, list[tvm.ir.transform.Pass]]]:
    t = relax.transform
    return [
        ("weight-only int8", [fuse_weight_only()]),
        ("constant folding", [t.FoldConstant()]),
        ("batchnorm folding", [FoldBatchNorm(), t.DecomposeOpsForInference(), t.FoldConstant()]),
        ("NHWC layout", [ClipToMinMax(), t.ConvertLayout(NHWC_LAYOUTS), SpatialOpsToNHWC(), t.FoldConstant(),
                         ClipFromMinMax()]),
        ("zero-copy reshapes", [SimplifyTranspose(), FoldTransposeIntoDense(), t.RemoveRedundantReshape(),
                                MergeReshapes(), t.CanonicalizeBindings()]),
        ("dead code elimination", [t.DeadCodeElimination()]),
    ]


def _fusion() -> tvm.ir.transform.Pass:
    return relax.transform.FuseOpsByPattern(fusion_patterns(), bind_constants=True)


def op_counts(mod: tvm.IRModule) -> Counter:
    """Ops called by main, with fused groups counted under their composite name."""
    counts: Counter = Counter()
    for binding in _bindings(mod["main"]):
        value = binding.value
        if isinstance(value, relax.Call):
            if isinstance(value.op, tvm.ir.Op):
                counts[value.op.name.removeprefix("relax.")] += 1
            elif isinstance(value.op, relax.GlobalVar):
                fn = mod[value.op]
                counts[str(fn.attrs["Composite"]) if fn.attrs and "Composite" in fn.attrs else value.op.name_hint] += 1
            elif isinstance(value.op, relax.Function):
                counts[str(value.op.attrs.get("Composite", "function"))] += 1
    return counts


def _bindings(func: relax.Function):
    for block in func.body.blocks:
        yield from block.bindings


def optimize(mod: tvm.IRModule, verbose: bool = False) -> tvm.IRModule:
    """Run every stage; with verbose, print the op census after each."""
    if verbose:
        _report("imported", op_counts(mod))
    if is_quantized(mod):
        return _optimize_quantized(mod, verbose)
    with tvm.transform.PassContext(opt_level=3):
        for name, passes in [*_stages(), ("fusion", [])]:
            # Every graph pass keeps layer names (spans); fusion keeps them by itself.
            seq = [keeping_layers(p, align=p.info.name == "ConvertLayout") for p in passes] or [_fusion()]
            mod = tvm.ir.transform.Sequential(seq)(mod)
            if verbose:
                _report(name, op_counts(mod))
    return mod


def _optimize_quantized(mod: tvm.IRModule, verbose: bool) -> tvm.IRModule:
    """A QDQ module: group each dequantize -> op -> quantize into one int8 composite first
    (optimize/quantized.py), then only passes that cannot turn int8 into float."""
    t = relax.transform
    stages = []
    if is_onnx_qdq(mod):   # ONNX's NCHW QDQ form -> the NHWC form the int8 patterns match
        stages.append(("ONNX QDQ to int8 form", [normalize_onnx_qdq()]))
    stages += [("int8 patterns", [fuse_quantized()]),
               ("zero-copy reshapes", [keeping_layers(t.RemoveRedundantReshape()),
                                       keeping_layers(t.CanonicalizeBindings())]),
               ("dead code elimination", [keeping_layers(t.DeadCodeElimination())])]
    with tvm.transform.PassContext(opt_level=3):
        for name, passes in stages:
            mod = tvm.ir.transform.Sequential(passes)(mod)
            raise_deferred()
            if verbose:
                _report(name, op_counts(mod))
    if is_onnx_qdq(mod):
        check_no_float_between_qdq(mod)
    return mod


def _report(stage: str, counts: Counter) -> None:
    total = sum(counts.values())
    ops = ", ".join(f"{op}×{n}" for op, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    print(f"hhbc: [{stage}] {total} ops: {ops}", file=sys.stderr)


def float_module(mod: tvm.IRModule, verbose: bool = False) -> tvm.IRModule:
    """The float pipeline without fusion: what post-training quantization calibrates and
    rewrites into QDQ form (hhbc/quantize/ptq.py). Int8 weights of a hybrid model are
    dequantized here (no weight-only stage): quantization takes them from their float values."""
    with tvm.transform.PassContext(opt_level=3):
        for name, passes in _stages()[1:]:
            mod = tvm.ir.transform.Sequential(
                [keeping_layers(p, align=p.info.name == "ConvertLayout") for p in passes])(mod)
            if verbose:
                _report(name, op_counts(mod))
    return mod


def optimize_quantized(mod: tvm.IRModule, verbose: bool = False) -> tvm.IRModule:
    """A QDQ module made by post-training quantization: the int8 pipeline."""
    if verbose:
        _report("quantized (QDQ)", op_counts(mod))
    return _optimize_quantized(mod, verbose)
