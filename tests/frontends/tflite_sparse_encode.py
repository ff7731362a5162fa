"""A test-side encoder of TFLite's sparse tensor format, written from the schema's comments
(schema.fbs, `SparsityParameters`), not from hhbc's decoder (tflite_rewrite.densify):

  * a tensor of n dims (d0..dn-1) may carry a k-dim block (dn..dn+k-1); `block_map[j]` is the
    original dim block j splits, which then counts blocks (shape / block size);
  * `traversal_order` (n + k entries) is the order the n + k dims are visited in: a
    permutation of the n tensor dims, then a permutation of the k block dims;
  * `dim_metadata[i]` describes the dim visited i-th: DENSE (`dense_size`, every coordinate)
    or SPARSE_CSR (under parent position p, the coordinates
    array_indices[array_segments[p]:array_segments[p + 1]]), like CSR's row pointers and
    column indices; the indices/segments are an Int32Vector, Uint16Vector or Uint8Vector;
  * the buffer holds the stored elements in that visiting order. Following TFLite's own
    converter, a SPARSE_CSR coordinate is kept when anything below it is non-zero; DENSE
    levels keep every coordinate, so a DENSE innermost block is stored whole.

The encoder walks the dense tensor recursively, one level at a time, which is slow but plainly
the definition above (the tests use tensors of a few thousand elements).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

DENSE, SPARSE_CSR = 0, 1
_INDEX_TYPES = {"int32": (1, "Int32VectorT", np.int32), "uint16": (2, "Uint16VectorT", np.uint16),
                "uint8": (3, "Uint8VectorT", np.uint8)}


def _schema():
    from ai_edge_litert import schema_py_generated as schema
    return schema


@dataclass
class _Level:
    """One visited dim: its size and, when SPARSE_CSR, the CSR arrays filled during the walk."""
    size: int
    sparse: bool
    segments: list[int] = field(default_factory=lambda: [0])
    indices: list[int] = field(default_factory=list)


def encode(dense: np.ndarray, traversal_order=None, block_map=(), block_size=(), formats=None,
           index_type: str = "int32"):
    """(stored values, SparsityParametersT) of `dense`.

    block_size[j] is the size of block j along dim block_map[j]; formats[i] is DENSE or
    SPARSE_CSR for the dim visited i-th (default: outer dims DENSE except the last tensor dim
    visited, which is SPARSE_CSR, blocks DENSE: TFLite's usual layout)."""
    dense = np.asarray(dense)
    n, k = dense.ndim, len(block_map)
    order = list(traversal_order) if traversal_order is not None else list(range(n + k))
    assert sorted(order[:n]) == list(range(n)) and sorted(order[n:]) == list(range(n, n + k))
    if formats is None:
        formats = [DENSE] * (n + k)
        formats[n - 1] = SPARSE_CSR
    expanded = _expand_blocks(dense, list(block_map), list(block_size))
    visited = np.transpose(expanded, order)
    levels = [_Level(int(size), fmt == SPARSE_CSR) for size, fmt in zip(visited.shape, formats)]
    values: list = []
    _walk(visited, levels, 0, values)
    return np.asarray(values, dense.dtype), _parameters(order, list(block_map), levels, index_type)


def _expand_blocks(dense: np.ndarray, block_map: list[int], block_size: list[int]) -> np.ndarray:
    """The n + k dim view: dim d of size shape[d] / b then, at position n + j, the b elements
    of block j inside one block (element index = block index * b + offset)."""
    n = dense.ndim
    split_shape, axes_outer, axes_inner = [], [], []
    for d in range(n):
        if d in block_map:
            b = block_size[block_map.index(d)]
            assert dense.shape[d] % b == 0, (dense.shape, d, b)
            axes_outer.append(len(split_shape))
            split_shape += [dense.shape[d] // b, b]
        else:
            axes_outer.append(len(split_shape))
            split_shape.append(dense.shape[d])
    for d in block_map:
        axes_inner.append(axes_outer[d] + 1)
    return dense.reshape(split_shape).transpose(axes_outer + axes_inner)


def _walk(sub: np.ndarray, levels: list[_Level], depth: int, values: list) -> None:
    """Visit the sub-tensor under one parent position at level `depth`."""
    if depth == len(levels):
        values.append(sub.item())
        return
    level = levels[depth]
    for i in range(level.size):
        child = sub[i]
        if level.sparse:
            if not np.any(child != 0):
                continue
            level.indices.append(i)
        _walk(child, levels, depth + 1, values)
    if level.sparse:
        level.segments.append(len(level.indices))


def _parameters(order: list[int], block_map: list[int], levels: list[_Level], index_type: str):
    schema = _schema()
    type_code, class_name, np_type = _INDEX_TYPES[index_type]
    params = schema.SparsityParametersT()
    params.traversalOrder = order
    params.blockMap = block_map or None
    params.dimMetadata = []
    for level in levels:
        meta = schema.DimensionMetadataT()
        if level.sparse:
            meta.format = SPARSE_CSR
            meta.arraySegmentsType = meta.arrayIndicesType = type_code
            meta.arraySegments = _index_vector(schema, class_name, np_type, level.segments)
            meta.arrayIndices = _index_vector(schema, class_name, np_type, level.indices)
        else:
            meta.format = DENSE
            meta.denseSize = level.size
        params.dimMetadata.append(meta)
    return params


def _index_vector(schema, class_name: str, np_type, numbers: list[int]):
    info = np.iinfo(np_type)
    assert all(info.min <= v <= info.max for v in numbers), f"{numbers} do not fit {np_type}"
    vector = getattr(schema, class_name)()
    vector.values = [int(v) for v in numbers]
    return vector


def sparse_model(buf: bytes, tensors: dict[int, dict], densify_op: bool = False) -> bytes:
    """The model with each listed constant tensor (index -> encode() keyword arguments) stored
    sparse: only the kept values in its buffer, `sparsity` set. With densify_op, each one is
    read through a DENSIFY op into a new dense tensor the consumers use instead (TFLite's form
    for ops without a sparse kernel)."""
    import flatbuffers

    schema = _schema()
    model = schema.ModelT.InitFromPackedBuf(bytearray(buf), 0)
    sg = model.subgraphs[0]
    for index, options in tensors.items():
        t = sg.tensors[index]
        dtype = {0: np.float32, 9: np.int8}[t.type]
        raw = np.asarray(model.buffers[t.buffer].data, np.uint8).tobytes()
        dense = np.frombuffer(raw, dtype).reshape(list(t.shape))
        values, t.sparsity = encode(dense, **options)
        model.buffers[t.buffer].data = np.frombuffer(values.tobytes(), np.uint8)
        if densify_op:
            _insert_densify(schema, model, index)
    builder = flatbuffers.Builder(len(buf) * 2 + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _insert_densify(schema, model, index: int) -> None:
    """A DENSIFY op from the sparse tensor to a dense copy, placed before every other op."""
    sg = model.subgraphs[0]
    src = sg.tensors[index]
    dst = schema.TensorT()
    dst.shape, dst.type, dst.name = list(src.shape), src.type, (_text(src.name) + "_dense").encode()
    dst.quantization = src.quantization
    empty = schema.BufferT()
    model.buffers.append(empty)
    dst.buffer = len(model.buffers) - 1
    sg.tensors.append(dst)
    out = len(sg.tensors) - 1
    for op in sg.operators:
        op.inputs = [out if i == index else i for i in op.inputs]
    op = schema.OperatorT()
    op.opcodeIndex = _opcode(schema, model, schema.BuiltinOperator.DENSIFY)
    op.inputs, op.outputs = [index], [out]
    op.builtinOptionsType = schema.BuiltinOptions.DensifyOptions
    op.builtinOptions = schema.DensifyOptionsT()
    sg.operators.insert(0, op)


def _opcode(schema, model, builtin: int) -> int:
    for k, code in enumerate(model.operatorCodes):
        if max(code.builtinCode, code.deprecatedBuiltinCode) == builtin:
            return k
    code = schema.OperatorCodeT()
    code.builtinCode, code.deprecatedBuiltinCode, code.version = builtin, min(builtin, 127), 1
    model.operatorCodes.append(code)
    return len(model.operatorCodes) - 1


def _text(name) -> str:
    return name.decode() if isinstance(name, bytes) else str(name)


def add_model(constant: np.ndarray) -> bytes:
    """A one-op float model: output = input + constant (the constant in tensor 1), built with
    the object API, for checking an encoding with TFLite's own DENSIFY."""
    import flatbuffers

    schema = _schema()
    model = schema.ModelT()
    model.version = 3
    model.buffers = [schema.BufferT(), schema.BufferT(), schema.BufferT(), schema.BufferT()]
    model.buffers[2].data = np.frombuffer(np.ascontiguousarray(constant, np.float32).tobytes(), np.uint8)
    sg = schema.SubGraphT()
    sg.tensors = []
    for k, name in enumerate(("input", "constant", "output")):
        t = schema.TensorT()
        t.shape, t.type, t.name, t.buffer = list(constant.shape), 0, name.encode(), k + 1
        sg.tensors.append(t)
    op = schema.OperatorT()
    op.opcodeIndex, op.inputs, op.outputs = 0, [0, 1], [2]
    op.builtinOptionsType = schema.BuiltinOptions.AddOptions
    op.builtinOptions = schema.AddOptionsT()
    sg.operators, sg.inputs, sg.outputs = [op], [0], [2]
    model.subgraphs = [sg]
    code = schema.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = schema.BuiltinOperator.ADD
    code.version = 1
    model.operatorCodes = [code]
    builder = flatbuffers.Builder(1024 + constant.size * 8)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
