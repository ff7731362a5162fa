"""Structure-aware mutation of .tflite flatbuffers, as an atheris custom mutator.

Byte-level mutation of a flatbuffer mostly breaks offsets or lands in weight data. This
mutator unpacks the model with the TFLite schema's object API (ai_edge_litert), changes one
field of the object tree and packs it again, so that the mutant stays a well-formed model with
one odd value: a tensor dim, type, buffer index or name; a quantization scale, zero point or
axis; an op's input/output tensor index, opcode or builtin option (stride, padding,
activation, axis...); a buffer's bytes; an operator deleted or duplicated. An input that does
not unpack, and BYTE_LEVEL_SHARE of the others, get libFuzzer's byte-level mutation."""

from __future__ import annotations

import random
from typing import Callable

import numpy as np

BYTE_LEVEL_SHARE = 0.3
_INTS = (0, 1, -1, 2, 3, 7, 127, 128, -128, 255, 65535, 2**31 - 1, -2**31)
_FLOATS = (0.0, -1.0, float("nan"), float("inf"), float("-inf"), 1e-30, 1e30, 3e38, 1e-45, 0.5)


def _is_table(v) -> bool:
    return hasattr(v, "Pack") and hasattr(v, "__dict__")


def _walk(obj, out: list, depth: int = 0) -> None:
    """(owner, key) of every mutable slot: attributes of tables, elements of lists/arrays."""
    if depth > 12:
        return
    for attr, value in vars(obj).items():
        if isinstance(value, (bool, int, float, bytes, str)) or value is None:
            out.append((obj, attr))
        elif isinstance(value, np.ndarray):
            if value.size and value.dtype != np.uint8:     # weight data: bytes of its own
                out.append((value, int(np.random.randint(value.size))))
            out.append((obj, attr))
        elif isinstance(value, list):
            out.append((obj, attr))
            for i, item in enumerate(value):
                if _is_table(item):
                    _walk(item, out, depth + 1)
                elif isinstance(item, (int, float)):
                    out.append((value, i))
        elif _is_table(value):
            _walk(value, out, depth + 1)


class TfliteMutator:
    def __init__(self, byte_mutate: Callable[[bytes, int], bytes]):
        from ai_edge_litert import schema_py_generated as schema
        self.schema = schema
        self.byte_mutate = byte_mutate

    def __call__(self, data: bytes, max_size: int, seed: int) -> bytes:
        rng = random.Random(seed)
        np.random.seed(seed & 0xFFFFFFFF)
        model = None
        if rng.random() >= BYTE_LEVEL_SHARE:
            try:
                model = self.schema.ModelT.InitFromPackedBuf(bytearray(data), 0)
            except Exception:          # not a flatbuffer we can unpack: bytes then
                model = None
        if model is None:
            return self.byte_mutate(data, max_size)
        try:
            self._mutate(model, rng)
            import flatbuffers
            builder = flatbuffers.Builder(len(data) + 1024)
            builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
            out = bytes(builder.Output())
        except Exception:              # a value the packer refuses: bytes then
            return self.byte_mutate(data, max_size)
        return out if len(out) <= max_size else self.byte_mutate(data, max_size)

    def _mutate(self, model, rng: random.Random) -> None:
        sg = model.subgraphs[0] if model.subgraphs else None
        if sg is not None and sg.operators and rng.random() < 0.1:
            ops = sg.operators
            i = rng.randrange(len(ops))
            if rng.random() < 0.5 and len(ops) > 1:
                del ops[i]
            else:
                ops.insert(i, ops[i])
            return
        slots: list = []
        _walk(model, slots)
        # weight bytes are most of the file but least of the bugs: keep them rare
        slots = [s for s in slots if not (isinstance(s[0], np.ndarray) and s[0].dtype == np.uint8)]
        owner, key = rng.choice(slots)
        if isinstance(owner, (list, np.ndarray)):
            old = owner[key]
            owner[key] = self._number(old, rng, isinstance(old, (float, np.floating)))
            return
        old = getattr(owner, key)
        if isinstance(old, bool):
            setattr(owner, key, not old)
        elif isinstance(old, int) or old is None and rng.random() < 0.5:
            setattr(owner, key, self._number(old or 0, rng, False))
        elif isinstance(old, float):
            setattr(owner, key, self._number(old, rng, True))
        elif isinstance(old, (bytes, str)):
            raw = old.encode() if isinstance(old, str) else old
            choice = rng.random()
            setattr(owner, key, b"" if choice < 0.3 else raw + b"_" if choice < 0.6 else
                    bytes(rng.randrange(256) for _ in range(rng.randint(1, 8))))
        elif isinstance(old, np.ndarray):
            if old.dtype == np.uint8:
                setattr(owner, key, old[:rng.randrange(old.size + 1)] if old.size else old)
            elif old.size and rng.random() < 0.5:
                setattr(owner, key, np.delete(old, rng.randrange(old.size)))
            else:
                setattr(owner, key, np.append(old, old[-1] if old.size else 1).astype(old.dtype))
        elif isinstance(old, list) and old:
            i = rng.randrange(len(old))
            if rng.random() < 0.5:
                del old[i]
            else:
                old.insert(i, old[i])

    @staticmethod
    def _number(old, rng: random.Random, floating: bool):
        if floating:
            return rng.choice(_FLOATS + (float(old) * 2, float(old) / 2, -float(old)))
        return rng.choice(_INTS + (int(old) + 1, int(old) - 1, int(old) * 2, -int(old)))
