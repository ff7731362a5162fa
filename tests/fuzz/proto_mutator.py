"""Structure-aware mutation of protobuf model files, as an atheris custom mutator.

atheris-libprotobuf-mutator would do this, but it cannot be installed by pip (its sdist builds
with bazel). This mutator parses the input as the format's message, applies one random
field-level change through protobuf reflection, and serializes it again, so that most mutants
still parse and reach the importers instead of dying in the protobuf decoder:

  * a scalar (or one element of a repeated scalar) set to an edge value: ints to 0, -1, 1,
    huge or random; floats to nan, inf, -inf, 0 or a random number; strings to empty, long or
    another name that occurs in the model; enums to another value; bytes mutated as bytes;
  * an unset scalar field set to such a value;
  * a repeated element deleted, duplicated or swapped with another; a repeated field cleared;
  * an optional field cleared; a message element copied (a node, a layer, an initializer).

Unparseable inputs (and one mutation in BYTE_LEVEL_SHARE) get atheris' byte-level mutation,
so the decoder itself keeps being exercised."""

from __future__ import annotations

import random
import struct
from typing import Any, Callable

from google.protobuf import descriptor, text_format

BYTE_LEVEL_SHARE = 0.15
_INT_TYPES = {descriptor.FieldDescriptor.CPPTYPE_INT32: (-2**31, 2**31 - 1),
              descriptor.FieldDescriptor.CPPTYPE_INT64: (-2**63, 2**63 - 1),
              descriptor.FieldDescriptor.CPPTYPE_UINT32: (0, 2**32 - 1),
              descriptor.FieldDescriptor.CPPTYPE_UINT64: (0, 2**64 - 1)}
_FLOAT_TYPES = {descriptor.FieldDescriptor.CPPTYPE_FLOAT, descriptor.FieldDescriptor.CPPTYPE_DOUBLE}
_MSG = descriptor.FieldDescriptor.CPPTYPE_MESSAGE
_ENUM = descriptor.FieldDescriptor.CPPTYPE_ENUM
_BOOL = descriptor.FieldDescriptor.CPPTYPE_BOOL
_STRING = descriptor.FieldDescriptor.CPPTYPE_STRING
_REPEATED = descriptor.FieldDescriptor.LABEL_REPEATED


def message_class(fmt: str):
    """The message a file of this format holds, and whether it is text format."""
    if fmt == "onnx":
        import onnx
        return onnx.ModelProto, False
    if fmt == "pb":
        from hhbc.frontends.tensorflow_schema import messages
        return messages()["GraphDef"], False
    if fmt in ("prototxt", "caffemodel"):
        from hhbc.frontends.caffe_schema import caffe_messages
        return caffe_messages()["NetParameter"], fmt == "prototxt"
    raise ValueError(f"no protobuf message for format {fmt!r}")


def _is_map(field) -> bool:
    return field.cpp_type == _MSG and field.message_type.GetOptions().map_entry


def _walk(msg, out: list) -> None:
    """Every (message, field) location in the tree, set or not (unset scalars can be set)."""
    for field in msg.DESCRIPTOR.fields:
        out.append((msg, field))
        if field.cpp_type != _MSG:
            continue
        if _is_map(field):
            value = getattr(msg, field.name)
            for key in list(value):
                v = value[key]
                if hasattr(v, "DESCRIPTOR"):
                    _walk(v, out)
        elif field.label == _REPEATED:
            for item in getattr(msg, field.name):
                _walk(item, out)
        elif msg.HasField(field.name):
            _walk(getattr(msg, field.name), out)


def _strings(msg, out: set) -> None:
    for field, value in msg.ListFields():
        if field.cpp_type == _STRING and field.type == descriptor.FieldDescriptor.TYPE_STRING:
            out.update(value if field.label == _REPEATED else [value])
        elif field.cpp_type == _MSG and not _is_map(field):
            for item in (value if field.label == _REPEATED else [value]):
                _strings(item, out)


class ProtoMutator:
    def __init__(self, fmt: str, byte_mutate: Callable[[bytes, int], bytes]):
        self.cls, self.text = message_class(fmt)
        self.byte_mutate = byte_mutate

    # ------------------------------------------------------------------ entry point
    def __call__(self, data: bytes, max_size: int, seed: int) -> bytes:
        rng = random.Random(seed)
        msg = self._parse(data) if rng.random() >= BYTE_LEVEL_SHARE else None
        if msg is None:
            return self.byte_mutate(data, max_size)
        for _ in range(4):          # a mutation can be a no-op (clearing an unset field): retry
            try:
                if self._mutate(msg, rng):
                    break
            except (ValueError, TypeError, OverflowError, IndexError, KeyError, AttributeError):
                continue
        out = self._serialize(msg)
        return out if out is not None and len(out) <= max_size else self.byte_mutate(data, max_size)

    def _parse(self, data: bytes):
        msg = self.cls()
        try:
            if self.text:
                text_format.Parse(data.decode("utf-8"), msg, allow_unknown_field=True)
            else:
                msg.ParseFromString(data)
        except Exception:           # any decoder complaint: fall back to byte-level mutation
            return None
        return msg

    def _serialize(self, msg) -> bytes | None:
        try:
            if self.text:
                return text_format.MessageToString(msg).encode()
            return msg.SerializePartialToString()
        except Exception:
            return None

    # ------------------------------------------------------------------ mutations
    def _mutate(self, msg, rng: random.Random) -> bool:
        locations: list = []
        _walk(msg, locations)
        names: set = set()
        _strings(msg, names)
        # Prefer fields that are set (most unset fields are noise), but keep some chance for them.
        set_locs = [(m, f) for m, f in locations if _has(m, f)]
        pool = set_locs if set_locs and rng.random() < 0.85 else locations
        if not pool:
            return False
        parent, field = rng.choice(pool)
        if _is_map(field):
            return self._mutate_map(parent, field, rng)
        if field.label == _REPEATED:
            return self._mutate_repeated(parent, field, rng, names)
        if field.cpp_type == _MSG:
            if parent.HasField(field.name) and rng.random() < 0.5:
                parent.ClearField(field.name)
                return True
            getattr(parent, field.name).SetInParent()
            return True
        if _has(parent, field) and rng.random() < 0.2:
            parent.ClearField(field.name)
            return True
        setattr(parent, field.name, self._value(field, getattr(parent, field.name), rng, names))
        return True

    def _mutate_repeated(self, parent, field, rng: random.Random, names: set) -> bool:
        items = getattr(parent, field.name)
        n = len(items)
        kind = rng.choice(("set", "set", "set", "delete", "duplicate", "swap", "clear", "append")
                          if field.cpp_type != _MSG else ("delete", "duplicate", "duplicate", "swap", "clear"))
        if n == 0 or kind == "append":
            if field.cpp_type == _MSG:
                items.add()
            else:
                items.append(self._value(field, None, rng, names))
            return True
        i = rng.randrange(n)
        if kind == "set":
            items[i] = self._value(field, items[i], rng, names)
        elif kind == "delete":
            del items[i]
        elif kind == "clear":
            parent.ClearField(field.name)
        elif kind == "duplicate":
            if field.cpp_type == _MSG:
                copy = items.add()
                copy.CopyFrom(items[i])
                if rng.random() < 0.5:     # move the copy next to its original
                    _move_last(items, i + 1)
            else:
                items.insert(i, items[i]) if hasattr(items, "insert") else items.append(items[i])
        elif kind == "swap":
            j = rng.randrange(n)
            if field.cpp_type == _MSG:
                a, b = type(items[i])(), type(items[j])()
                a.CopyFrom(items[i])
                b.CopyFrom(items[j])
                items[i].CopyFrom(b)
                items[j].CopyFrom(a)
            else:
                items[i], items[j] = items[j], items[i]
        return True

    def _mutate_map(self, parent, field, rng: random.Random) -> bool:
        value = getattr(parent, field.name)
        keys = list(value)
        if not keys:
            return False
        key = rng.choice(keys)
        if rng.random() < 0.5:
            del value[key]
        else:
            entry = value[key]
            if hasattr(entry, "DESCRIPTOR"):
                sub: list = []
                _walk(entry, sub)
                if not sub:
                    return False
                m, f = rng.choice(sub)
                if f.label == _REPEATED or f.cpp_type == _MSG:
                    return self._mutate_repeated(m, f, rng, set()) if f.label == _REPEATED else False
                setattr(m, f.name, self._value(f, getattr(m, f.name), rng, set()))
            else:
                value[key] = self._value(field.message_type.fields_by_name["value"], entry, rng, set())
        return True

    def _value(self, field, old: Any, rng: random.Random, names: set) -> Any:
        ct = field.cpp_type
        if ct in _INT_TYPES:
            lo, hi = _INT_TYPES[ct]
            choices = [0, 1, -1, 2, 3, hi, lo, hi // 2, 2**31 - 1, 65536, 1 << 20,
                       rng.randint(-8, 64), rng.randint(lo, hi)]
            if isinstance(old, int):
                choices += [old + 1, old - 1, old * 2, -old]
            return min(max(rng.choice(choices), lo), hi)
        if ct in _FLOAT_TYPES:
            v = rng.choice([float("nan"), float("inf"), float("-inf"), 0.0, -0.0, 1e30, -1e-30, 1.0,
                            rng.uniform(-10, 10)])
            if ct == descriptor.FieldDescriptor.CPPTYPE_FLOAT and abs(v) > 3e38 and v == v and abs(v) != float("inf"):
                v = struct.unpack("f", struct.pack("f", 3e38))[0]
            return v
        if ct == _BOOL:
            return not old if old is not None else rng.random() < 0.5
        if ct == _ENUM:
            values = [v.number for v in field.enum_type.values]
            return rng.choice(values)
        if ct == _STRING:
            if field.type == descriptor.FieldDescriptor.TYPE_BYTES:
                data = bytes(old or b"")
                kind = rng.random()
                if kind < 0.3 and data:
                    return data[:rng.randrange(len(data))]
                if kind < 0.4:
                    return data + bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
                return self.byte_mutate(data, max(len(data) + 16, 16))
            pick = rng.random()
            if pick < 0.4 and names:
                return rng.choice(sorted(names))
            if pick < 0.55:
                return ""
            if pick < 0.7:
                return "A" * rng.choice([256, 4096, 70000])
            base = str(old or "")
            return base + rng.choice(["_x", "/", ":0", ":1", "^", " ", "\u00e9", "0"])
        raise TypeError(f"unhandled field type {ct}")


def _has(msg, field) -> bool:
    if field.label == _REPEATED:
        return len(getattr(msg, field.name)) > 0
    try:
        return msg.HasField(field.name)
    except ValueError:              # proto3 scalar without presence: set when not the default
        return getattr(msg, field.name) != field.default_value


def _move_last(items, position: int) -> None:
    """Move the last element of a repeated message field to `position`."""
    copies = [type(items[0])() for _ in items]
    for c, item in zip(copies, items):
        c.CopyFrom(item)
    order = copies[:position] + [copies[-1]] + copies[position:-1]
    for dst, src in zip(items, order):
        dst.CopyFrom(src)
