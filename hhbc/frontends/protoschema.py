"""Protobuf message classes from a compact schema written in Python.

Caffe and TensorFlow models are protobuf messages. hhbc reads them without the
frameworks (or protoc) by declaring the fields it needs, with the field
numbers of the published .proto files (facts of the format), and letting the
protobuf runtime build the classes. Unknown fields are skipped on parse.

    schema = {
        "Shape": [("dim", 1, "int64", "repeated")],
        "Blob": [("shape", 7, "Shape"), ("data", 5, "float", "repeated", {"packed": True})],
    }
    classes = build_messages("mini", schema, enums={"Kind": {"A": 0, "B": 1}})
    blob = classes["Blob"].FromString(data)

An enum named "Message.Enum" is nested in that message, so that its value names
are scoped to it (proto2 enum values share their enclosing scope: Caffe has a
MAX both in PoolingParameter.PoolMethod and EltwiseParameter.EltwiseOp).
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_SCALARS = {
    "double": descriptor_pb2.FieldDescriptorProto.TYPE_DOUBLE,
    "float": descriptor_pb2.FieldDescriptorProto.TYPE_FLOAT,
    "int64": descriptor_pb2.FieldDescriptorProto.TYPE_INT64,
    "uint64": descriptor_pb2.FieldDescriptorProto.TYPE_UINT64,
    "int32": descriptor_pb2.FieldDescriptorProto.TYPE_INT32,
    "uint32": descriptor_pb2.FieldDescriptorProto.TYPE_UINT32,
    "bool": descriptor_pb2.FieldDescriptorProto.TYPE_BOOL,
    "string": descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
    "bytes": descriptor_pb2.FieldDescriptorProto.TYPE_BYTES,
}
_LABELS = {
    "optional": descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL,
    "repeated": descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED,
}

# A field: (name, number, type[, label[, options]]); type is a scalar name above,
# a message or enum name of the same schema, or "map<key,value>".
Field = tuple


def build_messages(package: str, messages: dict[str, list[Field]],
                   enums: dict[str, dict[str, int]] | None = None) -> dict[str, Any]:
    """Message classes (and enum descriptors) for a proto2 schema, keyed by name."""
    file = descriptor_pb2.FileDescriptorProto(name=f"hhbc_{package}.proto", package=package, syntax="proto2")
    enums = enums or {}
    protos = {}
    for name, fields in messages.items():
        protos[name] = file.message_type.add(name=name)
        _add_message(protos[name], package, fields, set(messages), set(enums))
    for name, values in enums.items():
        parent, _, short = name.rpartition(".")
        if parent and parent not in protos:
            raise ValueError(f"enum {name!r}: no message {parent!r} to nest it in")
        enum = (protos[parent].enum_type if parent else file.enum_type).add(name=short)
        for value_name, number in values.items():
            enum.value.add(name=value_name, number=number)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    classes: dict[str, Any] = {}
    for name in messages:
        classes[name] = message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{package}.{name}"))
    for name in enums:
        classes[name] = pool.FindEnumTypeByName(f"{package}.{name}")
    return classes


def _add_message(msg, package: str, fields: list[Field], message_names: set[str], enum_names: set[str]) -> None:
    for spec in fields:
        name, number, ftype = spec[:3]
        label = spec[3] if len(spec) > 3 else "optional"
        options = spec[4] if len(spec) > 4 else {}
        field = msg.field.add(name=name, number=number, label=_LABELS[label])
        if ftype.startswith("map<"):
            _add_map_field(msg, field, package, ftype, name, message_names, enum_names)
            continue
        _set_type(field, package, ftype, message_names, enum_names)
        if options.get("packed"):
            field.options.packed = True
        if "default" in options:
            field.default_value = str(options["default"])


def _set_type(field, package: str, ftype: str, message_names: set[str], enum_names: set[str]) -> None:
    if ftype in _SCALARS:
        field.type = _SCALARS[ftype]
    elif ftype in message_names:
        field.type = descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE
        field.type_name = f".{package}.{ftype}"
    elif ftype in enum_names:
        field.type = descriptor_pb2.FieldDescriptorProto.TYPE_ENUM
        field.type_name = f".{package}.{ftype}"
    else:
        raise ValueError(f"unknown field type {ftype!r}")


def _add_map_field(msg, field, package, ftype, name, message_names, enum_names) -> None:
    key_type, value_type = (t.strip() for t in ftype[4:-1].split(","))
    entry_name = "".join(part.capitalize() for part in name.split("_")) + "Entry"
    entry = msg.nested_type.add(name=entry_name)
    entry.options.map_entry = True
    key = entry.field.add(name="key", number=1, label=_LABELS["optional"])
    _set_type(key, package, key_type, message_names, enum_names)
    value = entry.field.add(name="value", number=2, label=_LABELS["optional"])
    _set_type(value, package, value_type, message_names, enum_names)
    field.label = _LABELS["repeated"]
    field.type = descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE
    field.type_name = f".{package}.{msg.name}.{entry_name}"
