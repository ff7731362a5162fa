"""hhbc's converters for ONNX's structural ops: where TVM's importer emits Relax that no
hhbc kernel runs, or gets the op wrong, these build the Relax that hhbc's kernels cover.

Each converter has the signature of the overrides in onnx.py:
`convert(importer, bb, inputs, attrs, opset) -> relax.Expr`, and is listed in OVERRIDES.
Also here: 1-D ops as 2-D (`as_2d`), and lifting old opsets (`lift_opset`).
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import numpy as np
import onnx

from hhbc.errors import HhbcError
from hhbc.frontends.quiet import quiet


def first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0][:200] if text else type(err).__name__


def node_label(importer) -> str:
    layer, op_type = importer.current_node
    return f"{op_type} node '{layer}'"


def _shape(expr) -> list[int]:
    return [int(d) for d in expr.ty.shape]


def const_value(expr) -> np.ndarray | None:
    import tvm

    return expr.value.numpy() if isinstance(expr, tvm.ir.GenericConst) else None


def str_attr(attrs, key: str, default: str) -> str:
    value = attrs.get(key, default)
    return value.decode() if isinstance(value, bytes) else str(value)


# ---------------------------------------------------------------- 1-D as 2-D
def as_2d(importer, bb, inputs, attrs, convert):
    """A 1-D op on [N, C, L] -> the 2-D op on [N, C, 1, L], and its output back to rank 3.

    `convert(inputs, attrs)` builds the 2-D op; the spatial attributes get H entries
    (kernel 1, stride 1, dilation 1, no padding) and the constant weight an H axis.
    """
    from tvm import relax

    if len(inputs[0].ty.shape) != 3:
        return convert(inputs, attrs)
    n, c, length = [int(d) for d in inputs[0].ty.shape]
    attrs = dict(attrs)
    for key, pad in (("kernel_shape", 1), ("strides", 1), ("dilations", 1), ("output_padding", 0),
                     ("output_shape", 1)):
        if key in attrs and attrs[key] is not None:
            attrs[key] = (pad, *attrs[key])
    if "pads" in attrs and attrs["pads"] is not None:
        begin, end = attrs["pads"]
        attrs["pads"] = (0, begin, 0, end)
    inputs = list(inputs) + [None] * 3   # TVM's converters read absent optional inputs as None
    inputs[0] = bb.normalize(relax.op.reshape(inputs[0], [n, c, 1, length]))
    if len(inputs) > 1 and inputs[1] is not None and len(inputs[1].ty.shape) == 3:
        w = [int(d) for d in inputs[1].ty.shape]
        value = const_value(inputs[1])
        inputs[1] = (relax.const(value.reshape(w[0], w[1], 1, w[2])) if value is not None else
                     bb.normalize(relax.op.reshape(inputs[1], [w[0], w[1], 1, w[2]])))
    out = bb.normalize(convert(inputs, attrs))
    shape = [int(d) for d in out.ty.shape]
    return relax.op.reshape(out, [shape[0], shape[1], shape[3]])


# ---------------------------------------------------------------- ConvTranspose
def conv_transpose(importer, bb, inputs, attrs, opset):
    """ConvTranspose (1-D as 2-D with H = 1) -> relax.nn.conv2d_transpose, lowered to `deconv2d`.

    Unlike TVM's converter this honours output_shape (which decides the pads, as ONNX
    specifies and onnxruntime computes) and auto_pad with it.
    """
    rank = len(inputs[0].ty.shape)
    if rank == 3:
        return as_2d(importer, bb, inputs, attrs, lambda i, a: conv_transpose(importer, bb, i, a, opset))
    if rank != 4:
        raise HhbcError(f"{node_label(importer)}: only 1-D and 2-D transposed convolution (rank 3 or 4 "
                        f"inputs) is supported, not rank {rank}")
    from tvm import relax

    x, weight = inputs[0], inputs[1]
    bias = inputs[2] if len(inputs) > 2 else None
    in_hw = _shape(x)[2:]
    kernel = list(attrs.get("kernel_shape") or _shape(weight)[2:])
    strides = list(attrs.get("strides") or [1, 1])
    dilations = list(attrs.get("dilations") or [1, 1])
    out_pad = list(attrs.get("output_padding") or [0, 0])
    group = int(attrs.get("group", 1))
    auto_pad = str_attr(attrs, "auto_pad", "NOTSET")
    natural = [s * (i - 1) + o + (k - 1) * d + 1 for i, k, s, d, o in zip(in_hw, kernel, strides, dilations, out_pad)]
    output_shape = attrs.get("output_shape")
    if output_shape is not None:
        output_shape = list(output_shape)[-2:]
    elif auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        output_shape = [i * s for i, s in zip(in_hw, strides)]
    if output_shape is not None:
        # ONNX: total padding = natural size - output_shape; pads[start] = total // 2 for
        # SAME_UPPER, total - total // 2 otherwise (NOTSET, SAME_LOWER).
        begin, end = [], []
        for nat, want in zip(natural, output_shape):
            total = nat - int(want)
            if total < 0:   # a larger output: extra rows/columns at the end (bias only)
                begin.append(0)
                end.append(total)
                continue
            small = total // 2
            head = small if auto_pad == "SAME_UPPER" else total - small
            begin.append(head)
            end.append(total - head)
    elif auto_pad == "VALID" or attrs.get("pads") is None:
        begin, end = [0, 0], [0, 0]
    else:
        pads = list(attrs["pads"])
        begin, end = pads[:2], pads[2:]
    # Relax's output size leaves output_padding out of `natural`: take it off the end pads
    # (what remains negative becomes Relax's output_padding). deconv2d reads only the
    # begin pads and the output size.
    end = [e - o for e, o in zip(end, out_pad)]
    if any(e < 0 for e in end):
        out_pad_relax = [max(0, -e) for e in end]
        end = [max(0, e) for e in end]
    else:
        out_pad_relax = [0, 0]
    out = relax.op.nn.conv2d_transpose(x, weight, strides=strides, padding=begin + end,
                                       output_padding=out_pad_relax, dilation=dilations, groups=group,
                                       data_layout="NCHW", kernel_layout="IOHW")
    if bias is not None:
        out = relax.op.add(bb.normalize(out), relax.op.reshape(bias, [1, -1, 1, 1]))
    return out


# ---------------------------------------------------------------- normalization
def lrn(importer, bb, inputs, attrs, opset):
    """LRN -> x * (bias + alpha/size * (band conv of x^2))^-beta: the form the fusion pass
    (optimize/fusion.py, "hhbc.lrn") turns into the `lrn` kernel, as Caffe's LRN is.

    ONNX's window for channel c is [c - floor((size-1)/2), c + ceil((size-1)/2)].
    """
    from tvm import relax

    x = inputs[0]
    shape = _shape(x)
    if len(shape) != 4:
        raise HhbcError(f"{node_label(importer)}: only 4-D (NCHW) inputs are supported, not rank {len(shape)}")
    channels = shape[1]
    size = int(attrs["size"])
    alpha, beta, bias = float(attrs.get("alpha", 1e-4)), float(attrs.get("beta", 0.75)), float(attrs.get("bias", 1.0))
    before = (size - 1) // 2
    band = np.zeros((channels, channels, 1, 1), np.float32)
    for c in range(channels):
        band[c, max(0, c - before):min(channels, c - before + size), 0, 0] = 1.0
    dtype = str(x.ty.dtype)
    total = relax.op.nn.conv2d(relax.op.multiply(x, x), relax.const(band, dtype),
                               data_layout="NCHW", kernel_layout="OIHW")
    denom = relax.op.add(relax.op.multiply(total, relax.const(np.float32(alpha) / np.float32(size), dtype)),
                         relax.const(bias, dtype))
    return relax.op.multiply(x, relax.op.power(denom, relax.const(-beta, dtype)))


def instance_norm(importer, bb, inputs, attrs, opset):
    """InstanceNormalization -> mean, subtract, mean of squares, sqrt, divide, scale, shift
    (TVM emits relax.variance, which no kernel runs)."""
    from tvm import relax

    x, scale, shift = inputs[0], inputs[1], inputs[2]
    rank = len(x.ty.shape)
    if rank < 3:
        raise HhbcError(f"{node_label(importer)}: the input needs spatial axes (rank >= 3), not rank {rank}")
    dtype = str(x.ty.dtype)
    axes = list(range(2, rank))
    eps = relax.const(float(attrs.get("epsilon", 1e-5)), dtype)
    centered = bb.normalize(relax.op.subtract(x, bb.normalize(relax.op.mean(x, axis=axes, keepdims=True))))
    var = bb.normalize(relax.op.mean(relax.op.multiply(centered, centered), axis=axes, keepdims=True))
    out = bb.normalize(relax.op.divide(centered, relax.op.sqrt(relax.op.add(var, eps))))
    per_channel = [-1] + [1] * (rank - 2)
    out = bb.normalize(relax.op.multiply(out, relax.op.reshape(scale, per_channel)))
    return relax.op.add(out, relax.op.reshape(shift, per_channel))


# ---------------------------------------------------------------- Dropout
def dropout(importer, bb, inputs, attrs, opset):
    """Inference Dropout is the identity; its optional mask output is all true (no element
    dropped). TVM keeps a training-mode op with a tuple output."""
    from tvm import relax

    if attrs["tvm_custom"]["num_outputs"] == 1:
        return inputs[0]
    if opset >= 12 and len(inputs) > 2 and inputs[2] is not None:
        training = const_value(inputs[2])
        if training is None or bool(training.reshape(-1)[0]):
            raise HhbcError(f"{node_label(importer)}: training_mode is set (or not constant); only inference "
                            "Dropout (the identity) is supported")
    mask = relax.const(np.ones(_shape(inputs[0]), bool))
    return relax.Tuple([inputs[0], mask])


def check_dropout_masks(model, path) -> None:
    """A Dropout mask that is a graph output would be a constant boolean output, which
    hhbc's firmware does not produce: refuse it by node. A mask that other nodes read is
    all true, and folds away."""
    outputs = {o.name for o in model.graph.output}
    for n in model.graph.node:
        if n.op_type == "Dropout" and len(n.output) > 1 and n.output[1] in outputs:
            raise HhbcError(f"{path}: Dropout node '{n.name or n.output[0]}': its mask output "
                            f"'{n.output[1]}' is a graph output (a constant boolean tensor in "
                            "inference); hhbc produces float outputs only")


# ---------------------------------------------------------------- Slice
def slice_(importer, bb, inputs, attrs, opset):
    """Slice: before opset 10 starts/ends/axes are attributes; they become the constant
    inputs of the opset-13 form, which TVM turns into relax.strided_slice."""
    from tvm import relax
    from tvm.relax.frontend.onnx import onnx_frontend as tvm_onnx

    if opset < 10:
        starts, ends = list(attrs["starts"]), list(attrs["ends"])
        axes = list(attrs.get("axes") or range(len(starts)))
        inputs = [inputs[0], relax.const(np.array(starts, np.int64)), relax.const(np.array(ends, np.int64)),
                  relax.const(np.array(axes, np.int64)), None]
    else:
        inputs = list(inputs) + [None] * (5 - len(inputs))
        for k in range(1, 5):
            if inputs[k] is not None and const_value(inputs[k]) is None:
                what = ("starts", "ends", "axes", "steps")[k - 1]
                raise HhbcError(f"{node_label(importer)}: {what} must be constant")
    converter = tvm_onnx._get_convert_map()["Slice"].get_converter(13)
    return converter(bb, inputs, {k: v for k, v in attrs.items() if k == "tvm_custom"},
                     [importer._nodes, importer._params])


OVERRIDES = {
    "ConvTranspose": conv_transpose, "LRN": lrn, "InstanceNormalization": instance_norm,
    "Dropout": dropout, "Slice": slice_,
}


# ---------------------------------------------------------------- old opsets
LIFT_BELOW_OPSET = 7   # onnxruntime's oldest opset, and the end of legacy broadcasting
LIFT_TO_OPSET = 13


def opset_of(model: onnx.ModelProto) -> int:
    return next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 1)


def lift_opset(model: onnx.ModelProto, path: Path) -> onnx.ModelProto:
    """A model older than opset 7 -> the same model in opset 13, by onnx.version_converter.

    Before opset 7, binary ops broadcast only when asked (`broadcast`/`axis`) and PRelu's
    [C] slope applies along the channel axis; neither TVM's importer nor onnxruntime reads
    those semantics. The converter rewrites the binary ops; PRelu's slope is reshaped here
    to [C, 1, ...] first (the converter keeps it [C], which opset 7 broadcasts along the
    last axis). A model the converter cannot lift is imported as it is.
    """
    opset = opset_of(model)
    if opset >= LIFT_BELOW_OPSET:
        return model
    from onnx import version_converter

    model = _legacy_prelu_slopes(model)
    try:
        with quiet():
            lifted = version_converter.convert_version(model, LIFT_TO_OPSET)
        # The converter leaves stale (typeless) value_info on the tensors it inserts.
        del lifted.graph.value_info[:]
        lifted = onnx.shape_inference.infer_shapes(lifted)
        onnx.checker.check_model(lifted)
    except Exception as err:
        print(f"hhbc: note: {path.name}: onnx.version_converter cannot lift opset {opset} to "
              f"{LIFT_TO_OPSET} ({first_line(err)}); importing it as it is", file=sys.stderr)
        return model
    return lifted


def _legacy_prelu_slopes(model: onnx.ModelProto) -> onnx.ModelProto:
    """Opset < 7 PRelu with a constant [C] slope on a rank >= 3 input: slope -> [C, 1, ...]."""
    prelus = [n for n in model.graph.node if n.op_type == "PRelu"]
    if not prelus:
        return model
    model = onnx.ModelProto.FromString(model.SerializeToString())
    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except Exception:
        return model
    ranks = {vi.name: len(vi.type.tensor_type.shape.dim)
             for vi in [*inferred.graph.input, *inferred.graph.value_info]
             if vi.type.tensor_type.HasField("shape")}
    inits = {t.name: t for t in model.graph.initializer}
    uses = Counter(i for n in model.graph.node for i in n.input)
    for n in prelus:
        rank = ranks.get(n.input[0], 0)
        slope = inits.get(n.input[1]) if len(n.input) > 1 else None
        if slope is None or rank < 3 or len(slope.dims) != 1 or slope.dims[0] == 1:
            continue
        if uses[n.input[1]] > 1:
            continue   # shared with another consumer: leave it (rare in exported models)
        array = onnx.numpy_helper.to_array(slope).reshape([-1] + [1] * (rank - 2))
        slope.CopyFrom(onnx.numpy_helper.from_array(array, slope.name))
        for vi in model.graph.input:   # IR < 4 lists initializers as inputs too
            if vi.name == slope.name:
                dims = vi.type.tensor_type.shape.dim
                del dims[:]
                for d in array.shape:
                    dims.add().dim_value = d
    return model
