"""Fold SPACE_TO_BATCH_ND -> CONV_2D / DEPTHWISE_CONV_2D -> BATCH_TO_SPACE_ND, the way TF
writes a dilated convolution (and older converters leave it), into PAD -> dilated CONV -> SLICE.

With block b, S2B pads the input and deals it into b*b sub-images; a VALID stride-1 conv runs on
each; B2S interleaves them back and crops. Output row h = i*b + r of the interleave reads padded
input rows (i + k)*b + r = h + k*b: exactly a VALID conv with dilation b on the padded input. So
the fold computes the same values (in int8 too: S2B pads with the zero point, as PAD does, and
keeps the quantization), in one convolution instead of three data shuffles around b*b small ones.

The rewrite is on the flatbuffer (TFLite's schema object API, as tflite_rewrite.py), before TVM
imports it; the reference interpreter still runs the original model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

_CONVS = ("CONV_2D", "DEPTHWISE_CONV_2D")


def dilated_conv_chains(graph) -> list[tuple[int, int, int]]:
    """(S2B, conv, B2S) op indices of every foldable chain."""
    consumers: dict[int, list] = {}
    for op in graph.ops:
        for i in op.inputs:
            consumers.setdefault(i, []).append(op)
    chains = []
    for s2b in graph.ops:
        if s2b.code != "SPACE_TO_BATCH_ND" or len(s2b.inputs) != 3:
            continue
        conv = _only_consumer(graph, consumers, s2b)
        if conv is None or conv.code not in _CONVS or conv.inputs[0] != s2b.outputs[0]:
            continue
        b2s = _only_consumer(graph, consumers, conv)
        if b2s is None or b2s.code != "BATCH_TO_SPACE_ND" or len(b2s.inputs) != 3:
            continue
        block, pads = _const(graph, s2b.inputs[1]), _const(graph, s2b.inputs[2])
        block2, crops = _const(graph, b2s.inputs[1]), _const(graph, b2s.inputs[2])
        if any(v is None for v in (block, pads, block2, crops)) or block.size != 2 \
                or not np.array_equal(block.reshape(-1), block2.reshape(-1)) \
                or len(graph.tensors[s2b.inputs[0]].shape) != 4:
            continue
        chains.append((s2b.index, conv.index, b2s.index))
    return chains


def _only_consumer(graph, consumers, op):
    out = op.outputs[0] if len(op.outputs) == 1 else None
    users = consumers.get(out, []) if out is not None else []
    if len(users) != 1 or out in graph.outputs:
        return None
    return users[0]


def _const(graph, idx: int) -> np.ndarray | None:
    """An int32 constant operand's values (read through the tflite package), or None."""
    t = graph.tensors[idx]
    if not t.buffer_bytes or t.dtype != "int32":
        return None
    buf = graph.model.Buffers(graph.model.Subgraphs(0).Tensors(idx).Buffer())
    data = buf.DataAsNumpy()
    if isinstance(data, int):
        return None
    return np.frombuffer(data.tobytes(), np.int32).reshape(t.shape or (-1,))


def fold_dilated_convs(graph, buf: bytes, path: Path) -> bytes:
    """`buf` itself when there is no chain to fold; else the rewritten flatbuffer."""
    chains = dilated_conv_chains(graph)
    if not chains:
        return buf
    from hhbc.frontends.tflite_rewrite import _schema
    import flatbuffers

    schema = _schema(path)
    model = schema.ModelT.InitFromPackedBuf(bytearray(buf), 0)
    sg = model.subgraphs[0]
    pad_code = _opcode(schema, model, "PAD")
    slice_code = _opcode(schema, model, "SLICE")
    dropped: list[int] = []
    for s2b_i, conv_i, b2s_i in chains:
        s2b, conv, b2s = sg.operators[s2b_i], sg.operators[conv_i], sg.operators[b2s_i]
        bh, bw = (int(v) for v in _const(graph, s2b.inputs[1]).reshape(-1))
        pads = _const(graph, s2b.inputs[2]).reshape(2, 2)
        crops = _const(graph, b2s.inputs[2]).reshape(2, 2)
        opts = conv.builtinOptions
        if (opts.strideH, opts.strideW, opts.dilationHFactor, opts.dilationWFactor) != (1, 1, 1, 1) \
                or opts.padding != schema.Padding.VALID:
            continue
        x = sg.tensors[s2b.inputs[0]]
        n, h, w, c = (int(d) for d in x.shape)
        # S2B -> PAD: its output tensor becomes the padded input
        s2b.opcodeIndex = pad_code
        width = np.array([[0, 0], pads[0], pads[1], [0, 0]], np.int32)
        s2b.inputs = [s2b.inputs[0], _new_const(schema, model, sg, width, f"{_name(x)}/dilated_pad")]
        s2b.builtinOptionsType, s2b.builtinOptions = schema.BuiltinOptions.PadOptions, schema.PadOptionsT()
        padded = sg.tensors[s2b.outputs[0]]
        hp, wp = h + int(pads[0].sum()), w + int(pads[1].sum())
        _reshape(padded, [n, hp, wp, c])
        # conv: dilation b on the padded input
        kh, kw = (int(d) for d in sg.tensors[conv.inputs[1]].shape[1:3])
        opts.dilationHFactor, opts.dilationWFactor = bh, bw
        y = sg.tensors[conv.outputs[0]]
        oh, ow, oc = hp - bh * (kh - 1), wp - bw * (kw - 1), int(y.shape[3])
        _reshape(y, [n, oh, ow, oc])
        # B2S -> SLICE: the crops
        b2s.opcodeIndex = slice_code
        begin = np.array([0, crops[0][0], crops[1][0], 0], np.int32)
        size = np.array([n, oh - crops[0].sum(), ow - crops[1].sum(), oc], np.int32)
        b2s.inputs = [b2s.inputs[0], _new_const(schema, model, sg, begin, f"{_name(y)}/dilated_begin"),
                      _new_const(schema, model, sg, size, f"{_name(y)}/dilated_size")]
        b2s.builtinOptionsType, b2s.builtinOptions = schema.BuiltinOptions.SliceOptions, schema.SliceOptionsT()
        # a PAD of nothing and a SLICE of everything are dropped (the conv takes their tensors)
        if not pads.any():
            conv.inputs = [s2b.inputs[0], *conv.inputs[1:]]
            dropped.append(s2b_i)
        if not crops.any():
            conv.outputs = list(b2s.outputs)
            _reshape(sg.tensors[conv.outputs[0]], [n, oh, ow, oc])
            dropped.append(b2s_i)
    for k in sorted(dropped, reverse=True):
        del sg.operators[k]
    builder = flatbuffers.Builder(len(buf) * 2 + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _opcode(schema, model, name: str) -> int:
    code = getattr(schema.BuiltinOperator, name)
    for k, oc in enumerate(model.operatorCodes):
        if max(oc.builtinCode, oc.deprecatedBuiltinCode) == code and oc.version == 1:
            return k
    oc = schema.OperatorCodeT()
    oc.builtinCode = code
    oc.deprecatedBuiltinCode = min(code, 127)
    oc.version = 1
    model.operatorCodes.append(oc)
    return len(model.operatorCodes) - 1


def _new_const(schema, model, sg, array: np.ndarray, name: str) -> int:
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(np.ascontiguousarray(array, np.int32).tobytes(), np.uint8)
    model.buffers.append(buffer)
    t = schema.TensorT()
    t.shape, t.type, t.buffer, t.name = list(array.shape), schema.TensorType.INT32, len(model.buffers) - 1, name
    sg.tensors.append(t)
    return len(sg.tensors) - 1


def _reshape(t, shape: list[int]) -> None:
    t.shape = list(shape)
    if t.shapeSignature is not None and len(t.shapeSignature):
        t.shapeSignature = [s if old >= 0 else -1 for s, old in zip(shape, t.shapeSignature)]


def _name(t) -> str:
    return t.name.decode() if isinstance(t.name, bytes) else str(t.name)
