"""`hhbc graph`: the KernelGraph of a compiled model as a Graphviz picture.

One box per layer (its op, the kernel it got, its output shape and MACs, the arena offset of the
tensor it writes), the model's inputs and outputs as nodes of their own, and one edge per
activation operand carrying the tensor's shape and byte size. The DOT text is written here;
Graphviz's `dot` binary renders it to SVG or PNG when it is on PATH. Names from the model file
only ever appear inside quoted labels, escaped (quotes, backslashes, braces, newlines and other
control characters, anything unprintable), so any name gives valid DOT.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from hhbc.errors import HhbcError
from hhbc.lower.graph import KernelGraph, Node, Tensor
from hhbc.lower.memory import MemoryPlan, plan_memory

# Suffixes `dot` renders to (-T format); .dot/.gv are written as text.
RENDERED = {".svg": "svg", ".png": "png"}
DOT_SUFFIXES = (".dot", ".gv")
INSTALL_HINT = "install Graphviz (Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz)"
NAME_CHARS = 48          # longer model names are cut in the picture (the manifest keeps them whole)
DOT_TIMEOUT_S = 300

_COLORS = {"input": "#dbeafe", "output": "#dcfce7", "vector": "#fef3c7", "scalar": "#f3f4f6"}


def dot_text(text: str, max_len: int = NAME_CHARS) -> str:
    """Text safe inside a DOT double-quoted string: `"` and `\\` escaped, every character that is
    not printable (newline, tab, NUL, lone surrogates, ...) shown as a visible \\uXXXX. Printable
    non-ASCII stays (DOT files are UTF-8); a long text is cut with "...". Escapes are never split."""
    if len(text) > max_len:
        text = text[: max_len - 3] + "..."
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch.isprintable():
            out.append(ch)
        else:
            out.append(f"\\\\u{ord(ch):04x}")   # DOT reads \\ as one backslash: shows \u000a
    return "".join(out)


def _label(*lines: str) -> str:
    """A quoted DOT label of already-escaped lines (\\n is DOT's centred line break)."""
    return '"' + "\\n".join(lines) + '"'


def _shape(t: Tensor) -> str:
    return "x".join(map(str, t.shape)) or "scalar"


def _bytes(n: int) -> str:
    if n < 10 * 1024:
        return f"{n} B"
    if n < 10 * 1024 * 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n / (1024 * 1024):.1f} MiB"


def _offset(t: Tensor, plan: MemoryPlan) -> str:
    """Where the tensor's bytes live: its arena offset, or the view it is of."""
    storage = t.storage()
    if storage.kind == "const":
        return "weights"
    at = plan.offsets.get(id(storage))
    if at is None:
        return "no arena slot"
    return f"arena @{at}" + (" (view)" if t.alias_of is not None else "")


def _kernel(node: Node, layer: dict[str, Any] | None) -> tuple[str, bool]:
    """The kernel function the layer got and whether it is a vector kernel: from the node's impl
    (set by codegen) or the manifest's layer entry; '?' when neither knows."""
    if node.impl is not None:
        return node.impl.function, bool(node.impl.vector)
    if layer is not None:
        return str(layer.get("kernel", "?")), bool(layer.get("vector", False))
    return "?", False


def dot_source(graph: KernelGraph, manifest: dict[str, Any] | None = None,
               plan: MemoryPlan | None = None) -> str:
    """The DOT text of the kernel graph. Node ids are hhbc's own (in0, L0, out0), never names."""
    manifest = manifest or {}
    if plan is None:
        plan = plan_memory(graph, guard=bool(manifest.get("guard_bytes")))
    layers = manifest.get("layers") or []
    if layers and len(layers) != len(graph.nodes):
        raise HhbcError(f"graph view: the manifest lists {len(layers)} layers but the kernel graph has "
                        f"{len(graph.nodes)}")

    producer: dict[int, str] = {}       # id(tensor) -> DOT node id that writes it
    for i, t in enumerate(graph.inputs):
        producer[id(t)] = f"in{i}"
    for i, n in enumerate(graph.nodes):
        producer[id(n.output)] = f"L{i}"

    def source(t: Tensor) -> str | None:
        """The node that wrote `t`, following views to the tensor they alias."""
        while t is not None:
            if id(t) in producer:
                return producer[id(t)]
            t = t.alias_of
        return None

    title = [dot_text(Path(str(manifest.get("model", "model"))).name, 80)]
    facts = []
    if manifest.get("target"):
        facts.append(f"target {dot_text(str(manifest['target']), 20)}")
    if manifest.get("scheme"):
        facts.append(dot_text(str(manifest["scheme"]), 24))
    facts.append(f"{len(graph.nodes)} layers, {graph.macs:,} MACs, arena {plan.arena_bytes:,} B")
    title.append(", ".join(facts))

    lines = ["digraph hhbc {",
             f"  graph [label={_label(*title)}, labelloc=t, fontname=\"Helvetica\", rankdir=TB];",
             "  node [fontname=\"Helvetica\", fontsize=10];",
             "  edge [fontname=\"Helvetica\", fontsize=9];"]
    for i, t in enumerate(graph.inputs):
        label = _label(f"input {dot_text(t.name)}", f"{_shape(t)} {t.dtype}",
                       f"{_offset(t, plan)}, {_bytes(t.nbytes)}")
        lines.append(f"  in{i} [shape=ellipse, style=filled, fillcolor=\"{_COLORS['input']}\", label={label}];")
    for i, n in enumerate(graph.nodes):
        layer = layers[i] if layers else None
        kernel, vector = _kernel(n, layer)
        weights = sum(c.nbytes for c in n.consts.values())
        rows = [f"#{i} {dot_text(n.layer or n.op)}",
                f"{dot_text(n.op, 32)} \u2192 {dot_text(kernel, 48)}",
                f"out {_shape(n.output)} {n.output.dtype}, {_offset(n.output, plan)}",
                f"{n.macs:,} MACs" + (f", weights {_bytes(weights)}" if weights else "")]
        color = _COLORS["vector" if vector else "scalar"]
        lines.append(f"  L{i} [shape=box, style=\"rounded,filled\", fillcolor=\"{color}\", "
                     f"label={_label(*rows)}];")
    for i, t in enumerate(graph.outputs):
        label = _label(f"output {dot_text(t.name)}", f"{_shape(t)} {t.dtype}",
                       f"{_offset(t, plan)}, {_bytes(t.nbytes)}")
        lines.append(f"  out{i} [shape=ellipse, style=filled, fillcolor=\"{_COLORS['output']}\", label={label}];")

    def edge(t: Tensor, to: str) -> None:
        src = source(t)
        if src is None:      # a constant operand: drawn inside the layer's box as its weights
            return
        note = [f"{_shape(t)} {t.dtype}", _bytes(t.nbytes) + (" (view)" if t.alias_of is not None else "")]
        lines.append(f"  {src} -> {to} [label={_label(*note)}];")

    for i, n in enumerate(graph.nodes):
        for t in n.inputs:
            if t.kind != "const":
                edge(t, f"L{i}")
    for i, t in enumerate(graph.outputs):
        edge(t, f"out{i}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_graph(compiled_or_graph: Any, manifest: dict[str, Any] | None, path: str | Path, *,
                plan: MemoryPlan | None = None) -> Path:
    """Draw the kernel graph of `compiled_or_graph` (a `hhbc.compiler.Compiled`, or a KernelGraph
    with the manifest codegen returned) to `path`: .dot/.gv as DOT text, .svg/.png through
    Graphviz's `dot`. Without `dot` on PATH the DOT goes next to `path` (same name, .dot) and a
    one-line HhbcError says so. `plan` defaults to the planner's (deterministic) plan for the
    graph, which is the one codegen used. Returns the file written."""
    graph = getattr(compiled_or_graph, "graph", compiled_or_graph)
    if not isinstance(graph, KernelGraph):
        raise TypeError(f"write_graph: expected a Compiled or KernelGraph, not {type(compiled_or_graph).__name__}")
    if manifest is None:
        manifest = getattr(compiled_or_graph, "manifest", None)
    path = check_output_path(path)
    return _emit(dot_source(graph, manifest, plan), path)


def check_output_path(path: str | Path) -> Path:
    """`-o` of `hhbc graph`, checked before any compiling: a known suffix, an existing folder."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in DOT_SUFFIXES and suffix not in RENDERED:
        raise HhbcError(f"-o {path}: unknown picture format {suffix or '(no suffix)'!r}; "
                        f"use .svg, .png or .dot")
    if not path.parent.is_dir():
        raise HhbcError(f"-o {path}: the directory {path.parent} does not exist")
    return path


def _emit(text: str, path: Path) -> Path:
    """DOT text to `path`: as is for .dot/.gv, else rendered by Graphviz's dot."""
    suffix = path.suffix.lower()
    if suffix in DOT_SUFFIXES:
        return _write_text(path, text)
    dot = shutil.which("dot")
    if dot is None:
        fallback = _write_text(path.with_suffix(".dot"), text)
        raise HhbcError(f"cannot draw {path.name}: Graphviz's `dot` is not on PATH; wrote {fallback} "
                        f"instead (any DOT viewer opens it); {INSTALL_HINT}")
    try:
        done = subprocess.run([dot, f"-T{RENDERED[suffix]}", "-o", str(path)], input=text.encode("utf-8"),
                              capture_output=True, timeout=DOT_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise HhbcError(f"Graphviz's dot took more than {DOT_TIMEOUT_S} s drawing {path.name}; "
                        f"write a .dot instead") from None
    except OSError as e:
        raise HhbcError(f"cannot run Graphviz's dot ({dot}): {e.strerror or e}") from None
    if done.returncode != 0 or not path.is_file():
        why = [ln for ln in done.stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
        raise HhbcError(f"Graphviz's dot failed drawing {path.name} (exit {done.returncode})"
                        + (f": {why[-1].strip()[:200]}" if why else ""))
    return path


def _write_text(path: Path, text: str) -> Path:
    """Write through a temporary file renamed into place (never half a file at `path`)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise HhbcError(f"cannot write {path}: {e.strerror or e}") from None
    return path


# ------------------------------------------------------------------ the optimized Relax module
def relax_dot_source(mod: Any, title: str = "Relax main after optimization") -> str:
    """The DOT text of a Relax module's `main`: one box per call binding (a Relax op, or a fused
    composite with the layers it merged), the parameters and results as nodes, one edge per
    tensor operand with its shape and dtype. Tuples and TupleGetItem are followed, not drawn."""
    from tvm import ir, relax

    from hhbc.layers import layer_of, layers_in

    func = mod["main"]
    lines = ["digraph hhbc {",
             f"  graph [label={_label(dot_text(title, 80))}, labelloc=t, fontname=\"Helvetica\", rankdir=TB];",
             "  node [fontname=\"Helvetica\", fontsize=10];",
             "  edge [fontname=\"Helvetica\", fontsize=9];"]
    sources: dict[Any, Any] = {}          # relax.Var -> DOT id, or a tuple of them
    shapes: dict[Any, str] = {}           # relax.Var -> "1x3x6x6 float32"
    fields: dict[Any, list] = {}          # relax.Var bound to a Tuple -> its fields

    def describe(ty) -> str:
        """A value's type: "1x3x6x6 float32" for a tensor."""
        if ty is not None and hasattr(ty, "dtype") and hasattr(ty, "shape"):
            dims = getattr(ty.shape, "values", None)
            shape = "x".join(_dim(d) for d in dims) if dims is not None else "?"
            return f"{shape or 'scalar'} {ty.dtype}"
        return type(ty).__name__.replace("Type", "").lower()

    def name(var) -> str:
        return str(getattr(var, "name_hint", None) or getattr(var, "name", "") or "")

    def edges_from(arg, to: str) -> int:
        """Edges from whatever produced `arg` to `to`; returns how many constants it held."""
        if isinstance(arg, ir.GenericConst):
            return 1
        if isinstance(arg, relax.Tuple):
            return sum(edges_from(f, to) for f in arg.fields)
        src = sources.get(arg) if isinstance(arg, relax.Var) else None
        if src is None:
            return 0
        for one in (src if isinstance(src, tuple) else (src,)):
            lines.append(f"  {one} -> {to} [label={_label(dot_text(shapes.get(arg, ''), 60))}];")
        return 0

    for i, param in enumerate(func.params):
        sources[param] = f"in{i}"
        shapes[param] = describe(getattr(param, "ty", None))
        label = _label(f"input {dot_text(name(param))}", dot_text(shapes[param], 60))
        lines.append(f"  in{i} [shape=ellipse, style=filled, fillcolor=\"{_COLORS['input']}\", label={label}];")
    count = 0
    for block in func.body.blocks:
        for binding in block.bindings:
            var, value = binding.var, binding.value
            shapes[var] = describe(getattr(var, "ty", None))
            if isinstance(value, relax.Var):
                sources[var] = sources.get(value)
            elif isinstance(value, relax.Tuple):
                fields[var] = list(value.fields)
                sources[var] = tuple(s for f in value.fields if isinstance(f, relax.Var)
                                     for s in (sources.get(f) if isinstance(sources.get(f), tuple)
                                               else (sources.get(f),)) if s is not None)
            elif isinstance(value, relax.TupleGetItem):
                src = sources.get(value.tuple_value)
                sources[var] = src[value.index] if isinstance(src, tuple) and value.index < len(src) else src
            elif isinstance(value, relax.Call):
                node = f"R{count}"
                count += 1
                if isinstance(value.op, ir.Op):
                    op, layer = value.op.name, layer_of(value) or ""
                elif isinstance(value.op, ir.GlobalVar):
                    fn = mod[value.op]
                    composite = fn.attrs.get("Composite") if fn.attrs else None
                    op = str(composite) if composite is not None else name(value.op)
                    layer = " + ".join(layers_in(fn)) if isinstance(fn, relax.Function) else ""
                else:
                    op, layer = type(value.op).__name__, ""
                weights = sum(edges_from(a, node) for a in value.args)
                rows = [f"{dot_text(name(var), 32)} = {dot_text(op, 48)}"]
                if layer:
                    rows.append(dot_text(layer))
                rows.append(dot_text(shapes[var], 60) + (f", {weights} constant(s)" if weights else ""))
                lines.append(f"  {node} [shape=box, style=\"rounded,filled\", fillcolor=\"{_COLORS['scalar']}\", "
                             f"label={_label(*rows)}];")
                sources[var] = node
    body = func.body.body
    results = list(body.fields) if isinstance(body, relax.Tuple) else fields.get(body, [body])
    for i, result in enumerate(results):
        sinfo = describe(getattr(result, "ty", None))
        label = _label(f"output {i}", dot_text(sinfo, 60))
        lines.append(f"  out{i} [shape=ellipse, style=filled, fillcolor=\"{_COLORS['output']}\", label={label}];")
        edges_from(result, f"out{i}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dim(d: Any) -> str:
    try:
        return str(int(d))
    except (TypeError, ValueError):
        return str(d)      # a symbolic dimension keeps its name


def write_relax_graph(mod: Any, path: str | Path, title: str = "Relax main after optimization") -> Path:
    """Draw a Relax module's main (e.g. `hhbc.optimize.optimize(model.mod)`) to `path`
    (.dot/.gv, or .svg/.png through Graphviz, as `write_graph`)."""
    path = check_output_path(path)
    return _emit(relax_dot_source(mod, title), path)
