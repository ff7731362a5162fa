"""The part of TensorFlow's GraphDef format hhbc reads, without TensorFlow.

Field numbers are those of the published tensorflow/core/framework/*.proto files
(graph.proto, node_def.proto, attr_value.proto, tensor.proto, tensor_shape.proto,
types.proto); fields hhbc does not need are skipped by the protobuf runtime.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hhbc.frontends.protoschema import build_messages

# DataType (types.proto): number -> (name, numpy dtype or None). A `_ref` type is
# the same number + 100 (old-style variables); hhbc reads it as the base type.
DATA_TYPES: dict[int, tuple[str, str | None]] = {
    0: ("DT_INVALID", None), 1: ("DT_FLOAT", "float32"), 2: ("DT_DOUBLE", "float64"),
    3: ("DT_INT32", "int32"), 4: ("DT_UINT8", "uint8"), 5: ("DT_INT16", "int16"),
    6: ("DT_INT8", "int8"), 7: ("DT_STRING", None), 8: ("DT_COMPLEX64", None),
    9: ("DT_INT64", "int64"), 10: ("DT_BOOL", "bool"), 11: ("DT_QINT8", None),
    12: ("DT_QUINT8", None), 13: ("DT_QINT32", None), 14: ("DT_BFLOAT16", None),
    15: ("DT_QINT16", None), 16: ("DT_QUINT16", None), 17: ("DT_UINT16", "uint16"),
    18: ("DT_COMPLEX128", None), 19: ("DT_HALF", "float16"), 20: ("DT_RESOURCE", None),
    21: ("DT_VARIANT", None), 22: ("DT_UINT32", "uint32"), 23: ("DT_UINT64", "uint64"),
}

# Type-valued fields are declared int32 rather than as the DataType enum: proto2
# enums are closed, and a value the enum does not list (a `_ref` type) would be
# dropped on parse instead of read.
_SCHEMA = {
    "GraphDef": [
        ("node", 1, "NodeDef", "repeated"),
    ],
    "NodeDef": [
        ("name", 1, "string"),
        ("op", 2, "string"),
        ("input", 3, "string", "repeated"),
        ("device", 4, "string"),
        ("attr", 5, "map<string,AttrValue>"),
    ],
    "AttrValue": [   # a oneof in the .proto: exactly one of these is present
        ("list", 1, "ListValue"),
        ("s", 2, "bytes"),
        ("i", 3, "int64"),
        ("f", 4, "float"),
        ("b", 5, "bool"),
        ("type", 6, "int32"),
        ("shape", 7, "TensorShapeProto"),
        ("tensor", 8, "TensorProto"),
        ("placeholder", 9, "string"),
    ],
    "ListValue": [
        ("s", 2, "bytes", "repeated"),
        ("i", 3, "int64", "repeated", {"packed": True}),
        ("f", 4, "float", "repeated", {"packed": True}),
        ("b", 5, "bool", "repeated", {"packed": True}),
        ("type", 6, "int32", "repeated", {"packed": True}),
        ("shape", 7, "TensorShapeProto", "repeated"),
        ("tensor", 8, "TensorProto", "repeated"),
    ],
    "TensorShapeProto": [
        ("dim", 2, "Dim", "repeated"),
        ("unknown_rank", 3, "bool"),
    ],
    "Dim": [   # TensorShapeProto.Dim
        ("size", 1, "int64"),
        ("name", 2, "string"),
    ],
    "TensorProto": [
        ("dtype", 1, "int32"),
        ("tensor_shape", 2, "TensorShapeProto"),
        ("version_number", 3, "int32"),
        ("tensor_content", 4, "bytes"),
        ("float_val", 5, "float", "repeated", {"packed": True}),
        ("double_val", 6, "double", "repeated", {"packed": True}),
        ("int_val", 7, "int32", "repeated", {"packed": True}),
        ("string_val", 8, "bytes", "repeated"),
        ("int64_val", 10, "int64", "repeated", {"packed": True}),
        ("bool_val", 11, "bool", "repeated", {"packed": True}),
        ("half_val", 13, "int32", "repeated", {"packed": True}),
        ("uint32_val", 16, "uint32", "repeated", {"packed": True}),
        ("uint64_val", 17, "uint64", "repeated", {"packed": True}),
    ],
}

_ENUMS = {"DataType": {name: number for number, (name, _) in DATA_TYPES.items()}}
_classes: dict[str, Any] | None = None


def messages() -> dict[str, Any]:
    """The message classes, built once."""
    global _classes
    if _classes is None:
        _classes = build_messages("hhbc_tf", _SCHEMA, _ENUMS)
    return _classes


def parse_graph_def(data: bytes):
    """A GraphDef message from bytes (raises the protobuf runtime's DecodeError)."""
    return messages()["GraphDef"].FromString(data)


def dtype_name(number: int) -> str:
    if not isinstance(number, int):
        return f"DataType({number!r})"
    value = messages()["DataType"].values_by_number.get(number - 100 if number > 100 else number)
    return value.name if value is not None else f"DataType({number})"


def numpy_dtype(number: int) -> str | None:
    base = DATA_TYPES.get(number - 100 if number > 100 else number)
    return base[1] if base else None


def shape_dims(shape) -> list[int] | None:
    """A TensorShapeProto as a list of dims (-1 unknown), or None for an unknown rank."""
    if shape.unknown_rank:
        return None
    return [int(d.size) for d in shape.dim]


# value fields of TensorProto by numpy dtype (int8/16 and uint8/16 travel in int_val)
_VALUE_FIELDS = {
    "float32": "float_val", "float64": "double_val", "int32": "int_val", "int16": "int_val",
    "int8": "int_val", "uint8": "int_val", "uint16": "int_val", "int64": "int64_val",
    "bool": "bool_val", "float16": "half_val", "uint32": "uint32_val", "uint64": "uint64_val",
}


def tensor_to_numpy(tensor) -> np.ndarray:
    """A TensorProto's value. Raises ValueError for types hhbc cannot hold in numpy.

    The values are either raw little-endian bytes (tensor_content) or a typed list;
    a list shorter than the shape repeats its last element (TensorFlow's "splat").
    """
    dtype = numpy_dtype(tensor.dtype)
    if dtype is None:
        raise ValueError(f"constant of type {dtype_name(tensor.dtype)}")
    shape = shape_dims(tensor.tensor_shape) or []
    size = int(np.prod(shape, dtype=np.int64))
    if tensor.tensor_content:
        flat = np.frombuffer(tensor.tensor_content, dtype=np.dtype(dtype).newbyteorder("<"))
        if flat.size != size:
            raise ValueError(f"constant holds {flat.size} values for shape {shape}")
        return flat.astype(dtype).reshape(shape)
    values = list(getattr(tensor, _VALUE_FIELDS[dtype]))
    if dtype == "float16":
        flat = np.array(values, np.uint16).view(np.float16)
    else:
        flat = np.array(values, dtype)
    if flat.size == size:
        return flat.reshape(shape)
    if flat.size == 0:
        return np.zeros(shape, dtype)
    if flat.size > size:
        raise ValueError(f"constant holds {flat.size} values for shape {shape}")
    return np.concatenate([flat, np.full(size - flat.size, flat[-1], dtype)]).reshape(shape)


def attr_value(value) -> Any:
    """An AttrValue as Python: int, float, bool, str, dtype number, dims, TensorProto or a list."""
    if value.HasField("list"):
        lst = value.list
        for field in ("i", "f", "b", "type"):
            items = list(getattr(lst, field))
            if items:
                return items
        if lst.s:
            return [s.decode("utf-8", "replace") for s in lst.s]
        if lst.shape:
            return [shape_dims(s) for s in lst.shape]
        if lst.tensor:   # as messages, like a single tensor: the reader decides (and checks sizes)
            return list(lst.tensor)
        return []
    if value.HasField("s"):
        return value.s.decode("utf-8", "replace")
    for field in ("i", "f", "b", "type"):
        if value.HasField(field):
            return getattr(value, field)
    if value.HasField("shape"):
        return shape_dims(value.shape)
    if value.HasField("tensor"):
        return value.tensor
    return None
