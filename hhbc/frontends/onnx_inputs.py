"""ONNX model inputs whose value must be known at compile time.

An integer model input that only feeds shape operands (Expand's shape, Reshape's shape,
Tile's repeats, ...) fixes the shape of the tensors after it: firmware with static buffers
needs its value when compiling. The user gives it with `--const-input name=value`, and
`hhbc run` folds it from the `--input` array it was given. Either way it becomes an
initializer of the model (and no longer a model input) before anything else reads it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import onnx
from onnx import numpy_helper

from hhbc.errors import HhbcError

# op type -> the input positions that are shape or axis operands (read as constants).
SHAPE_OPERANDS: dict[str, frozenset[int]] = {
    "Expand": frozenset({1}), "Reshape": frozenset({1}), "Tile": frozenset({1}),
    "ConstantOfShape": frozenset({0}), "Resize": frozenset({1, 2, 3}), "Upsample": frozenset({1}),
    "Slice": frozenset({1, 2, 3, 4}), "Pad": frozenset({1, 2, 3}), "Squeeze": frozenset({1}),
    "Unsqueeze": frozenset({1}), "Split": frozenset({1}), "TopK": frozenset({1}),
    "Range": frozenset({0, 1, 2}), "OneHot": frozenset({1}),
    **{op: frozenset({1}) for op in ("ReduceMax", "ReduceMin", "ReduceMean", "ReduceSum", "ReduceProd",
                                     "ReduceL1", "ReduceL2", "ReduceLogSumExp", "ReduceSumSquare")},
}
# Ops through which a shape value passes on its way to a shape operand (shape arithmetic).
_PASS_THROUGH = frozenset({"Cast", "Identity", "Concat", "Unsqueeze", "Squeeze", "Slice", "Gather",
                           "Add", "Sub", "Mul", "Div", "Max", "Min"})
_INTEGER = frozenset({onnx.TensorProto.INT32, onnx.TensorProto.INT64})


def _graph_inputs(model: onnx.ModelProto) -> list[onnx.ValueInfoProto]:
    initializers = {t.name for t in model.graph.initializer}
    return [i for i in model.graph.input if i.name not in initializers]


def shape_inputs(model: onnx.ModelProto) -> dict[str, str]:
    """Integer graph inputs that every consumer reads as a shape operand (directly, or
    through shape arithmetic) -> a label of the first such consumer ("Expand node 'e'")."""
    consumers: dict[str, list[tuple[onnx.NodeProto, int]]] = {}
    for node in model.graph.node:
        for k, name in enumerate(node.input):
            consumers.setdefault(name, []).append((node, k))
    outputs = {o.name for o in model.graph.output}

    def label_of(name: str, seen: set[str]) -> str | None:
        """A shape consumer's label if `name` feeds only shape operands, else None."""
        if name in outputs or name in seen or not consumers.get(name):
            return None
        seen.add(name)
        first = None
        for node, k in consumers[name]:
            if k in SHAPE_OPERANDS.get(node.op_type, ()):
                label = f"{node.op_type} node '{node.name or node.output[0]}'"
            elif node.op_type in _PASS_THROUGH and len(node.output) == 1:
                label = label_of(node.output[0], seen)
            else:
                return None
            if label is None:
                return None
            first = first or label
        return first

    found = {}
    for vi in _graph_inputs(model):
        if vi.type.tensor_type.elem_type in _INTEGER:
            label = label_of(vi.name, set())
            if label is not None:
                found[vi.name] = label
    return found


def fold_const_inputs(model: onnx.ModelProto, path: Path,
                      consts: Sequence[tuple[str, np.ndarray]]) -> onnx.ModelProto:
    """The model with each (name, value) of --const-input as an initializer, no longer an
    input. The value takes the input's declared type; its size must fit the declared shape."""
    if not consts:
        return model
    model = onnx.ModelProto.FromString(model.SerializeToString())
    inputs = {vi.name: vi for vi in _graph_inputs(model)}
    for name, value in consts:
        vi = inputs.pop(name, None)
        if vi is None:
            listed = ", ".join(i.name for i in _graph_inputs(model)) or "none"
            raise HhbcError(f"--const-input {name}: {path.name} has no input named '{name}' (inputs: {listed})")
        ttype = vi.type.tensor_type
        dtype = onnx.helper.tensor_dtype_to_np_dtype(ttype.elem_type)
        value = np.asarray(value)
        if not (np.issubdtype(value.dtype, np.number) or value.dtype == bool):
            raise HhbcError(f"--const-input {name}: a {value.dtype} value")
        if np.issubdtype(dtype, np.integer) and np.issubdtype(value.dtype, np.floating) \
                and not np.array_equal(value, np.round(value)):
            raise HhbcError(f"--const-input {name}: non-integer values for an integer input")
        dims = [d.dim_value if d.HasField("dim_value") else None for d in ttype.shape.dim] \
            if ttype.HasField("shape") else None
        if dims is not None and None not in dims:
            if value.size != int(np.prod(dims, dtype=np.int64)):
                raise HhbcError(f"--const-input {name}: {value.size} value(s) for an input of shape {dims}")
            value = value.reshape(dims)
        elif dims is not None and value.ndim != len(dims):
            if len(dims) != 1:
                raise HhbcError(f"--const-input {name}: rank {value.ndim} value for a rank-{len(dims)} input")
            value = value.reshape(-1)
        model.graph.initializer.append(numpy_helper.from_array(value.astype(dtype), name))
        keep = [i for i in model.graph.input if i.name != name]
        del model.graph.input[:]
        model.graph.input.extend(keep)
    return model


def require_shape_values(model: onnx.ModelProto, path: Path, names: Sequence[str]) -> None:
    """Refuse, in one line, a model input among `names` that only feeds shape operands."""
    shapes = shape_inputs(model)
    for name in names:
        if name in shapes:
            raise HhbcError(f"{path}: input '{name}' is the shape operand of {shapes[name]}; its value must be "
                            f"known when compiling: give it with --const-input {name}=FILE.npy or "
                            f"{name}=v1,v2,... (hhbc run folds the value given with --input)")


def foldable_inputs(path: Path, input_names: Sequence[str] = (),
                    consts: Sequence[tuple[str, np.ndarray]] = ()) -> tuple[list[str], list[tuple[int, str, str]]]:
    """The model inputs' names once `consts` are folded, and (position among them, name,
    consumer label) of each that only feeds shape operands: `hhbc run` folds these from its
    input arrays."""
    from hhbc.frontends.onnx import read_onnx

    model = fold_const_inputs(read_onnx(path), path, consts)
    names = list(input_names) or [i.name for i in _graph_inputs(model)]
    shapes = shape_inputs(model)
    return names, [(k, name, shapes[name]) for k, name in enumerate(names) if name in shapes]


def parse_const_input(text: str) -> tuple[str, np.ndarray]:
    """`--const-input name=file.npy` or `name=3,1` (or `name=3 1`) -> (name, array)."""
    name, sep, value = text.partition("=")
    name, value = name.strip(), value.strip()
    if not sep or not name or not value:
        raise HhbcError(f"--const-input '{text}': expected NAME=FILE.npy or NAME=v1,v2,...")
    if value.endswith((".npy", ".pb")):
        file = Path(value)
        if not file.is_file():
            raise HhbcError(f"--const-input {name}: no such file {value}")
        try:
            if value.endswith(".pb"):
                tensor = onnx.TensorProto()
                tensor.ParseFromString(file.read_bytes())
                return name, numpy_helper.to_array(tensor)
            return name, np.load(file, allow_pickle=False)
        except Exception as err:
            raise HhbcError(f"--const-input {name}: {value} is not a readable .npy or .pb file "
                            f"({str(err).splitlines()[0] if str(err) else type(err).__name__})") from None
    parts = [p for p in value.replace(",", " ").strip("[]() ").split() if p]
    try:
        numbers = [int(p) for p in parts]
        return name, np.asarray(numbers, dtype=np.int64)
    except ValueError:
        pass
    try:
        return name, np.asarray([float(p) for p in parts], dtype=np.float32)
    except ValueError:
        raise HhbcError(f"--const-input {name}: '{value}' is neither a .npy/.pb file nor numbers") from None


_ARITHMETIC = frozenset({"Add", "Sub", "Mul", "Div", "Pow", "Mod", "Neg", "Abs", "Sum", "Mean", "Max", "Min"})


def check_integer_arithmetic(model: onnx.ModelProto, path: Path) -> None:
    """Integer model inputs are indices to hhbc (Embedding's); arithmetic on them (or on
    integer tensors computed from them) at run time has no kernel: refuse it in one line
    naming the node. Integer arithmetic the importer writes itself (ArgMax's
    select_last_index: n - 1 - argmax(flip(x))) is not from an input, and hhbc lowers it."""
    types = {vi.name: vi.type.tensor_type.elem_type
             for vi in [*model.graph.input, *model.graph.value_info, *model.graph.output]}
    types.update({t.name: t.data_type for t in model.graph.initializer})
    integer = _INTEGER | {onnx.TensorProto.INT8, onnx.TensorProto.UINT8, onnx.TensorProto.INT16}
    from_inputs = {vi.name for vi in _graph_inputs(model) if vi.type.tensor_type.elem_type in integer}
    for node in model.graph.node:   # topological order
        if not from_inputs.intersection(node.input):
            continue
        elem = types.get(node.output[0]) if node.output else None
        if node.op_type in _ARITHMETIC and elem in integer:
            raise HhbcError(f"{path}: {node.op_type} node '{node.name or node.output[0]}': arithmetic on "
                            f"{onnx.TensorProto.DataType.Name(elem)} tensors is not supported (integer model "
                            "inputs are indices to hhbc; its elementwise ops compute in float32)")
        from_inputs.update(o for o in node.output if types.get(o) in integer)
