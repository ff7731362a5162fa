"""Rewrites of a TFLite flatbuffer into the plain float form TVM's importer reads:

  * DEQUANTIZE of a constant: float16 weights (`supported_types = [tf.float16]`) or int8 ones;
    the DEQUANTIZE's output becomes a float32 constant and the op goes (TVM 0.27 cannot read
    float16 constants), also after a DENSIFY (sparse float16 or int8 weights);
  * sparse weights (Tensor.sparsity: traversal order, block map, DENSE/SPARSE_CSR dimension
    metadata): densified in place, and a DENSIFY op reading one becomes a constant like the
    DEQUANTIZE above;
  * a quantization of one scale with quantized_dimension != 0 (a depthwise filter of one
    channel): the axis set to 0, which TVM's importer requires of per-tensor filters.

The flatbuffer is unpacked and packed again with the object API of TFLite's generated schema
(ModelT / Pack), which ai-edge-litert ships; TensorFlow's copy serves as well. The interpreter
(the reference) still runs the original file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hhbc.errors import HhbcError

# tflite.TensorType -> numpy dtype, for the constants rewritten here
_NP_TYPES = {0: np.float32, 1: np.float16, 2: np.int32, 3: np.uint8, 4: np.int64, 7: np.int16, 9: np.int8,
             10: np.float64}
_FLOAT32 = 0
_FLOAT16 = 1


def needs_rewrite(graph) -> bool:
    """Does the model hold sparse tensors, DEQUANTIZE/DENSIFY ops on constants, or one-scale
    quantizations that name an axis?"""
    return any(t.sparse for t in graph.tensors) or bool(_foldable_ops(graph)) or bool(_axis_of_one_scale(graph))


def _axis_of_one_scale(graph) -> list[int]:
    """Tensors quantized with a single scale whose quantized_dimension is not 0 (H1). The converter
    writes quantized_dimension 3 for every depthwise filter [1, KH, KW, C*M], also when C*M = 1
    leaves one scale; TVM's importer then refuses the per-tensor filter (it wants axis 0). One
    scale means per-tensor whatever the axis: the rewrite sets the axis to 0."""
    return [t.index for t in graph.tensors if len(t.scale) == 1 and t.quant_axis != 0]


def _foldable_ops(graph) -> list[int]:
    """Indices of the ops on weights only, in model order: a DENSIFY of a constant, a DEQUANTIZE
    of a float16 or quantized (int8, uint8, int16) constant, and chains of them (DENSIFY of a
    sparse float16 constant -> DEQUANTIZE): each one's output is a constant for the next."""
    consts = {t.index for t in graph.tensors if t.buffer_bytes}
    found = []
    for op in graph.ops:
        if op.code not in ("DEQUANTIZE", "DENSIFY") or len(op.inputs) != 1 or len(op.outputs) != 1:
            continue
        if op.inputs[0] not in consts:
            continue
        src = graph.tensors[op.inputs[0]]
        if op.code == "DEQUANTIZE" and not (src.dtype == "float16" or src.scale):
            continue
        found.append(op.index)
        consts.add(op.outputs[0])
    return found


def plain_weights(graph, buf: bytes, path: Path) -> bytes:
    """`buf` itself when there is nothing to rewrite; else the rewritten flatbuffer."""
    if not needs_rewrite(graph):
        return buf
    schema = _schema(path)
    import flatbuffers

    model = _unpack(schema, buf, path)
    if len(model.subgraphs) != 1:
        raise HhbcError(f"{path}: float16/sparse weights or one-scale quantization axes in a model with "
                        f"{len(model.subgraphs)} subgraphs are not supported")
    sg = model.subgraphs[0]
    for t in sg.tensors:
        if t.sparsity is not None:
            _densify_tensor(model, t, path)
    for k in _axis_of_one_scale(graph):
        sg.tensors[k].quantization.quantizedDimension = 0
    folded = _foldable_ops(graph)
    for k in folded:
        op = sg.operators[k]
        src, dst = sg.tensors[op.inputs[0]], sg.tensors[op.outputs[0]]
        if graph.ops[k].code == "DEQUANTIZE":
            data, dtype = _dequantized(src, _tensor_array(model, src, path), path), _FLOAT32
        else:
            data, dtype = _tensor_array(model, src, path), src.type
        _set_constant(schema, model, dst, data, dtype, path)
        if dtype == _FLOAT32:
            dst.quantization = None
        elif src.quantization is not None:   # DENSIFY keeps the values' quantization
            dst.quantization = src.quantization
    for k in reversed(folded):
        del sg.operators[k]
    builder = flatbuffers.Builder(len(buf) * 2 + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _dequantized(t, q: np.ndarray, path: Path) -> np.ndarray:
    """A DEQUANTIZE's float32 result on constant `q`: float16 widened, else scale * (q - zero_point)
    (per channel along the quantized dimension), as TFLite's reference DEQUANTIZE computes it."""
    if t.type == _FLOAT16:
        return q.astype(np.float32)
    scale, zero = _scales(t, q, path)
    return ((q.astype(np.int32) - zero).astype(np.float32) * scale).astype(np.float32)


def _scales(t, q: np.ndarray, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(scale, zero point) of constant `t`, shaped to broadcast against its data `q`; a
    quantization that does not fit the data is a one-line error naming the tensor."""
    quant = t.quantization
    scale = np.asarray(quant.scale if quant is not None and quant.scale is not None else [], np.float32)
    if scale.size == 0:
        raise HhbcError(f"{path}: quantized constant '{_name(t)}' has no scale")
    if not np.all(np.isfinite(scale) & (scale > 0)):
        raise HhbcError(f"{path}: quantized constant '{_name(t)}' has scale "
                        f"{scale[~(np.isfinite(scale) & (scale > 0))][0]:g} (scales must be positive and finite)")
    zeros = quant.zeroPoint if quant.zeroPoint is not None and len(quant.zeroPoint) else [0] * scale.size
    zero = np.asarray(zeros, np.int64)
    if zero.size not in (1, scale.size) or np.any(np.abs(zero) > 2**31 - 1):
        raise HhbcError(f"{path}: quantized constant '{_name(t)}' has zero points {zero[:4].tolist()}"
                        f"{'...' if zero.size > 4 else ''} for {scale.size} scale(s)")
    zero = zero.astype(np.int32)
    if scale.size > 1:
        axis = quant.quantizedDimension
        if not 0 <= axis < q.ndim or q.shape[axis] != scale.size:
            raise HhbcError(f"{path}: quantized constant '{_name(t)}' {list(q.shape)} has {scale.size} "
                            f"scales along axis {axis}")
        shape = [1] * q.ndim
        shape[axis] = scale.size
        scale = scale.reshape(shape)
        zero = np.broadcast_to(zero, scale.size).reshape(shape)
    return scale, zero


def dequantized_weights(buf: bytes, tensors: set[int], path: Path) -> bytes:
    """The model with the given int8 weights replaced by float32 scale * (q - zero_point).

    That is the float computation a hybrid model stands for, and what hhbc computes; the
    interpreter runs it with its float kernels, whereas its hybrid kernels would quantize each
    activation to int8 on the fly (a few percent away). `hhbc run` compares against this."""
    schema = _schema(path)
    import flatbuffers

    model = _unpack(schema, buf, path)
    sg = model.subgraphs[0]
    for idx in sorted(tensors):
        t = sg.tensors[idx]
        q = _tensor_array(model, t, path).astype(np.float32)
        scale, zero = _scales(t, q, path)   # per channel along quantizedDimension, or one
        zero = zero.astype(np.float32)
        _set_constant(schema, model, t, ((q - zero) * scale).astype(np.float32), _FLOAT32, path)
        t.quantization = None
    builder = flatbuffers.Builder(len(buf) * 4 + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _unpack(schema, buf: bytes, path: Path):
    """The whole flatbuffer as objects. Unpacking reads every table (builtin options too, which
    read_tflite does not walk): an offset past the end is a one-line error here."""
    try:
        return schema.ModelT.InitFromPackedBuf(bytearray(buf), 0)
    except Exception as err:   # flatbuffers raises struct.error, IndexError, ValueError, ...
        first = (str(err).strip().splitlines() or [type(err).__name__])[0][:160]
        raise HhbcError(f"{path}: truncated or corrupt TFLite model ({type(err).__name__}: {first})") from None


def _schema(path: Path):
    """TFLite's generated schema with the object API; hhbc's 'tflite' package has none."""
    try:
        from ai_edge_litert import schema_py_generated as schema
    except ImportError:
        try:
            from tensorflow.lite.python import schema_py_generated as schema
        except ImportError:
            raise HhbcError(f"{path}: float16 or sparse weights are rewritten with TFLite's schema "
                            "from ai-edge-litert: pip install ai-edge-litert") from None
    return schema


def _tensor_array(model, t, path: Path) -> np.ndarray:
    """A constant tensor's data, dense, shaped; data that does not fit the tensor's type and
    shape is a one-line error naming it."""
    if not 0 <= t.buffer < len(model.buffers):
        raise HhbcError(f"{path}: constant '{_name(t)}' names buffer {t.buffer} of {len(model.buffers)}")
    if t.type not in _NP_TYPES:
        raise HhbcError(f"{path}: constant '{_name(t)}' has TFLite type {t.type}, which hhbc cannot read")
    data = model.buffers[t.buffer].data
    raw = np.asarray(data if data is not None else [], np.uint8).tobytes()
    dtype = np.dtype(_NP_TYPES[t.type])
    shape = [int(d) for d in t.shape] if t.shape is not None else []
    count = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if any(d < 0 for d in shape) or len(raw) != count * dtype.itemsize:
        raise HhbcError(f"{path}: constant '{_name(t)}' of shape {shape} and type {dtype.name} holds "
                        f"{len(raw)} bytes, not {max(count, 0) * dtype.itemsize}")
    return np.frombuffer(raw, dtype).reshape(shape)


def _set_constant(schema, model, t, array: np.ndarray, tensor_type: int, path: Path) -> None:
    """Make `t` a constant holding `array`, in a buffer of its own."""
    if tuple(array.shape) != tuple(int(d) for d in t.shape):
        raise HhbcError(f"{path}: constant for tensor '{_name(t)}' has shape {list(array.shape)}, "
                        f"not {list(t.shape)}")
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(np.ascontiguousarray(array, _NP_TYPES[tensor_type]).tobytes(), np.uint8)
    model.buffers.append(buffer)
    t.buffer = len(model.buffers) - 1
    t.type = tensor_type
    t.sparsity = None


def _name(t) -> str:
    name = t.name
    return name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name)


def _densify_tensor(model, t, path: Path) -> None:
    """Replace a sparse constant's values by the dense tensor they encode."""
    if t.type not in _NP_TYPES:
        raise HhbcError(f"{path}: sparse tensor '{_name(t)}' of TFLite type {t.type} is not supported")
    data = model.buffers[t.buffer].data
    raw = np.asarray(data if data is not None else [], np.uint8).tobytes()
    dtype = np.dtype(_NP_TYPES[t.type])
    if len(raw) % dtype.itemsize:
        raise HhbcError(f"{path}: sparse tensor '{_name(t)}' has {len(raw)} bytes of values, "
                        f"not a whole number of {dtype.name}")
    values = np.frombuffer(raw, dtype)
    dense = densify(values, [int(d) for d in t.shape], t.sparsity, _name(t), path)
    buffer = model.buffers[t.buffer]
    buffer.data = np.frombuffer(dense.tobytes(), np.uint8)
    t.sparsity = None


_DENSE, _SPARSE_CSR = 0, 1


def densify(values: np.ndarray, shape: list[int], sparsity, name: str = "", path: Path | None = None) -> np.ndarray:
    """The dense tensor of TFLite's sparsity format.

    The tensor's n dims, some split into blocks (block_map[j] is the dim block j splits; the
    dim then counts blocks and block dim n + j the elements inside one), are visited in
    `traversal_order`; each visited level is DENSE (all `dense_size` coordinates) or
    SPARSE_CSR (the coordinates array_indices[segments[p]:segments[p + 1]] under parent
    position p). The values are the stored elements in that order. Every count and index is
    checked first: a malformed file is an error naming the tensor, never a wrong weight.
    """
    where = f"{path}: sparse tensor '{name}'" if path else f"sparse tensor '{name}'"
    order = [int(d) for d in (sparsity.traversalOrder if sparsity.traversalOrder is not None else [])]
    block_map = [int(d) for d in (sparsity.blockMap if sparsity.blockMap is not None else [])]
    levels = sparsity.dimMetadata or []
    n = len(shape)
    if (sorted(order) != list(range(n + len(block_map))) or len(levels) != len(order)
            or sorted(set(block_map)) != sorted(block_map) or any(not 0 <= d < n for d in block_map)):
        raise HhbcError(f"{where}: malformed sparsity (traversal order {order}, block map {block_map}, "
                        f"{len(levels)} levels for {n} dims)")
    dims = _visited_sizes(shape, order, block_map, levels, where)
    pos = np.zeros(1, np.int64)
    coords = np.zeros((0, 1), np.int64)      # [level][element]: the coordinate at each level
    for i, (level, size) in enumerate(zip(levels, dims)):
        if level.format == _DENSE:
            child = (pos[:, None] * size + np.arange(size)).reshape(-1)
            coord = np.tile(np.arange(size), pos.size)
            coords = np.repeat(coords, size, axis=1)
        else:
            segments, indices = _csr_level(level, i, pos.size, size, where)
            counts = segments[pos + 1] - segments[pos]
            child = np.repeat(segments[pos] - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
            coord = indices[child]
            coords = np.repeat(coords, counts, axis=1)
        coords = np.vstack([coords, coord[None, :]])
        pos = child.astype(np.int64)
    if pos.size != values.size:
        raise HhbcError(f"{where}: {values.size} stored values for {pos.size} positions")
    expanded = np.zeros((n + len(block_map), pos.size), np.int64)
    expanded[order] = coords
    index = [expanded[d] for d in range(n)]
    for j, d in enumerate(block_map):
        index[d] = index[d] * dims[order.index(n + j)] + expanded[n + j]
    flat = np.ravel_multi_index(tuple(index), shape) if pos.size else pos
    if np.unique(flat).size != flat.size:
        raise HhbcError(f"{where}: an element is stored twice (repeated SPARSE_CSR index)")
    dense = np.zeros(shape, values.dtype)
    dense.reshape(-1)[flat] = values[pos]
    return dense


def _visited_sizes(shape: list[int], order: list[int], block_map: list[int], levels, where: str) -> list[int]:
    """The size of each visited level: a blocked dim counts blocks, a block dim its elements.

    A block's size is its DENSE level's dense_size (TFLite's converter writes blocks DENSE),
    else the dim's size over its number of blocks when that level is DENSE."""
    n = len(shape)
    sizes = list(shape) + [0] * len(block_map)
    for j, d in enumerate(block_map):
        inner, outer = levels[order.index(n + j)], levels[order.index(d)]
        if inner.format == _DENSE:
            block = int(inner.denseSize)
        elif outer.format == _DENSE and int(outer.denseSize) > 0:
            block = shape[d] // int(outer.denseSize)
        else:
            block = 0
        if block <= 0 or shape[d] % block:
            raise HhbcError(f"{where}: block {j} of size {block} does not divide dim {d} of size {shape[d]}")
        sizes[d], sizes[n + j] = shape[d] // block, block
    visited = [sizes[k] for k in order]
    for i, (level, size) in enumerate(zip(levels, visited)):
        if level.format not in (_DENSE, _SPARSE_CSR):
            raise HhbcError(f"{where}: level {i} has unknown format {level.format}")
        if level.format == _DENSE and int(level.denseSize) != size:
            raise HhbcError(f"{where}: DENSE level {i} has dense_size {level.denseSize}, "
                            f"the tensor's shape {shape} needs {size}")
    return visited


def _csr_level(level, i: int, parents: int, size: int, where: str) -> tuple[np.ndarray, np.ndarray]:
    """A SPARSE_CSR level's segments and indices, checked against the positions above it."""
    segments = _index_vector(level.arraySegments, where)
    indices = _index_vector(level.arrayIndices, where)
    if (segments.size != parents + 1 or segments[0] != 0 or np.any(np.diff(segments) < 0)
            or segments[-1] != indices.size):
        raise HhbcError(f"{where}: SPARSE_CSR level {i} has {segments.size} segments for {parents} parent "
                        f"positions and {indices.size} indices (segments out of range)")
    if indices.size and (indices.min() < 0 or indices.max() >= size):
        raise HhbcError(f"{where}: SPARSE_CSR level {i} has indices outside 0..{size - 1}")
    return segments, indices


def _index_vector(vector, where: str) -> np.ndarray:
    if vector is None or getattr(vector, "values", None) is None:
        raise HhbcError(f"{where}: SPARSE_CSR level without segments or indices")
    return np.asarray(vector.values, np.int64)
