"""SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND as plain Relax (pad, reshape, permute_dims,
strided_slice) instead of TVM's importer's `call_dps_packed("topi.nn.*")`, which has no
kernel here and pads an int8 tensor with 0 where TFLite pads with the output zero point.

Both take NHWC-like tensors [N, spatial..., rest...] with M = len(block) spatial dims.
"""

from __future__ import annotations

import numpy as np


def _operands(conv, op):
    tensors = conv.get_input_tensors(op)
    x = conv.get_tensor_expr(tensors[0])
    shape = [int(d) for d in conv.get_tensor_shape(tensors[0])]
    block = [int(b) for b in np.asarray(conv.get_tensor_value(tensors[1])).reshape(-1)]
    pairs = np.asarray(conv.get_tensor_value(tensors[2])).reshape(-1, 2).astype(int)
    return tensors[0], x, shape, block, pairs


def space_to_batch_nd(conv, op):
    """[N, S1+p.., .., R..] -> pad -> [N, S1/b1, b1, .., R..] -> [b1, .., N, S1/b1, .., R..]."""
    from tvm import relax

    src, x, shape, block, pads = _operands(conv, op)
    m = len(block)
    rest = shape[1 + m:]
    zero_point = 0
    if src.qnn_params:   # TFLite pads a quantized tensor with the output's zero point
        out = conv.get_output_tensors(op)[0]
        zero_point = int(np.asarray(out.qnn_params["zero_point"].value.numpy()).reshape(-1)[0])
    if pads.any():
        width = [0, 0] + [int(v) for p in pads for v in p] + [0, 0] * len(rest)
        x = relax.op.nn.pad(x, pad_width=width, pad_value=float(zero_point))
    padded = [s + int(p[0]) + int(p[1]) for s, p in zip(shape[1:1 + m], pads)]
    split = [shape[0]] + [v for s, b in zip(padded, block) for v in (s // b, b)] + rest
    x = relax.op.reshape(x, split)
    perm = [2 + 2 * i for i in range(m)] + [0] + [1 + 2 * i for i in range(m)] + \
        list(range(1 + 2 * m, 1 + 2 * m + len(rest)))
    x = relax.op.permute_dims(x, perm)
    return relax.op.reshape(x, [shape[0] * int(np.prod(block))] + [s // b for s, b in zip(padded, block)] + rest)


def batch_to_space_nd(conv, op):
    """[b1*..*N, S1, .., R..] -> [b1, .., N, S1, .., R..] -> [N, S1, b1, .., R..] -> crop."""
    from tvm import relax

    _, x, shape, block, crops = _operands(conv, op)
    m = len(block)
    rest = shape[1 + m:]
    n = shape[0] // int(np.prod(block))
    x = relax.op.reshape(x, block + [n] + shape[1:])
    perm = [m] + [v for i in range(m) for v in (m + 1 + i, i)] + list(range(2 * m + 1, 2 * m + 1 + len(rest)))
    x = relax.op.permute_dims(x, perm)
    full = [s * b for s, b in zip(shape[1:1 + m], block)]
    x = relax.op.reshape(x, [n] + full + rest)
    if crops.any():
        axes = list(range(1, 1 + m))
        begin = [int(c[0]) for c in crops]
        end = [f - int(c[1]) for f, c in zip(full, crops)]
        x = relax.op.strided_slice(x, axes, begin, end)
    return x
