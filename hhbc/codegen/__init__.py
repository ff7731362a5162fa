"""KernelGraph -> a self-contained firmware C project, rendered from templates/."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import numpy as np

import hhbc
from hhbc.codegen.cnames import NameTable, c_comment, c_ident, c_string
from hhbc.codegen.cvalues import C_TYPES, c_array_body, c_bytes_body, c_float, c_ints, render_act
from hhbc.codegen.kernel_impl import KernelImpl
from hhbc.codegen.kernels import COMMON_HEADERS, assign_kernels, vector_mac_share
from hhbc.codegen.outdir import MANIFEST, ProjectWriter
from hhbc.codegen.params import PARAM_FIELDS
from hhbc.errors import HhbcError
from hhbc.frontends.model import ImportedModel
from hhbc.lower.graph import KernelGraph, Node, Tensor
from hhbc.lower.memory import MemoryPlan, canaries, lifetimes
from hhbc.targets import Target

PACKAGE_DIR = Path(hhbc.__file__).parent
KERNELS_DIR = PACKAGE_DIR / "kernels"
TEMPLATES_DIR = PACKAGE_DIR / "templates"
MAX_DIMS = 6
# Constants of at least this many bytes are written as byte strings (see c_bytes_body);
# smaller ones as numbers a reader can check against the model.
BYTES_FROM = 16384


@dataclass
class CLayer:
    """One kernel call in model.c, pre-rendered for the template."""
    index: int
    comment: str
    params_decl: str | None
    call: str
    tensors_decl: list[str] = field(default_factory=list)


@functools.cache
def _env() -> jinja2.Environment:
    """One environment per process: jinja compiles each template once, not once per model."""
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                              trim_blocks=True, lstrip_blocks=True)


class _Emitter:
    def __init__(self, graph: KernelGraph, plan: MemoryPlan, target: Target, prefix: str):
        self.graph, self.plan, self.target, self.prefix = graph, plan, target, prefix
        self.names = NameTable()
        self.tensor_decls: list[str] = []
        self.declared: set[int] = set()
        self.weights: list[tuple[Tensor, np.ndarray]] = []

    def name_tensors(self) -> None:
        for k, t in enumerate(self.graph.inputs):
            t.cid = self.names.take(f"in{k}_", t.name)
        for k, t in enumerate(self.graph.outputs):
            if not t.cid:
                t.cid = self.names.take(f"out{k}_", t.name)
        for k, node in enumerate(self.graph.nodes):
            node.cid = self.names.take(f"l{k}_", node.layer or node.op)
            if not node.output.cid:
                node.output.cid = self.names.take(f"t{k}_", node.output.name)

    def const_symbol(self, t: Tensor, data: np.ndarray, role: str = "") -> str:
        """The weight's C symbol: numbered, then its role in the kernel (weight, bias, shift, ...)
        so that a reader of weights.c need not look the struct field up, then its layer.
        Returns the expression of its first element's address."""
        if not t.cid:
            tag = f"{role}_" if role else ""
            t.cid = self.names.take(f"{self.prefix}_w{len(self.weights)}_{tag}", t.name)
            self.weights.append((t, data))
        return f"{t.cid}.values" if _as_bytes(data) else t.cid

    def tensor_ref(self, t: Tensor, local: list[str]) -> str:
        """`&<struct>` for an operand. A weight's hhbc_tensor is declared once, static const at
        file scope; an arena tensor's in `local`, the block of the layer that uses it, because
        its data pointer is relative to the arena <p>_run_with() is given."""
        shape = t.shape or (1,)
        if len(shape) > MAX_DIMS:
            raise HhbcError(f"tensor '{t.name}': rank {len(shape)} exceeds {MAX_DIMS}")
        if t.kind == "const":
            data = f"(void *){self.const_symbol(t, t.data)}"
            struct = f"{t.cid}_t"
        else:
            if not t.cid:
                t.cid = self.names.take("v_", t.name)
            struct = t.cid
            data = f"HHBC_ARENA({self.plan.offset(t)})"
        origin = f" (view of {t.storage().cid})" if t.alias_of is not None else ""
        decl = (f"const hhbc_tensor {struct} = {{{data}, {c_ints(list(shape), MAX_DIMS)}, {len(shape)}}};"
                f"  /* {c_comment(t.name, 60)}{origin} */")
        if t.kind != "const":
            if decl not in local:
                local.append(decl)
        elif id(t) not in self.declared:
            self.declared.add(id(t))
            self.tensor_decls.append("static " + decl)
        return f"&{struct}"

    def params_init(self, node: Node, impl: KernelImpl, packed: dict[str, np.ndarray]) -> str:
        parts = []
        for fname, kind in PARAM_FIELDS[node.op]:
            if kind.startswith(("const:", "const?:")):
                key = kind.split(":", 1)[1]
                if key in node.consts and packed.get(key) is None:   # the packer folded it away
                    parts.append(f".{fname} = NULL")
                elif key in node.consts:
                    parts.append(f".{fname} = {self.const_symbol(node.consts[key], packed[key], fname)}")
                elif kind.startswith("const:"):
                    parts.append(f".{fname} = NULL")
                continue
            value = node.params[fname]
            if kind == "int":
                parts.append(f".{fname} = {int(value)}")
            elif kind == "float":
                parts.append(f".{fname} = {c_float(value)}")
            elif kind == "ints":
                parts.append(f".{fname} = {c_ints(value, MAX_DIMS)}")
            elif kind == "act":
                parts.append(f".{fname} = {render_act(value)}")
            elif kind.startswith("enum:"):
                parts.append(f".{fname} = {kind[5:]}{str(value).upper()}")
            elif kind == "broadcast":   # hhbc_broadcast_i8
                parts.append(f".{fname} = {{.ndim = {int(value['ndim'])}, "
                             f".out_dim = {c_ints(value['out_dim'], MAX_DIMS)}, "
                             f".a_stride = {c_ints(value['a_stride'], MAX_DIMS)}, "
                             f".b_stride = {c_ints(value['b_stride'], MAX_DIMS)}}}")
            elif kind == "array:int32":
                parts.append(f".{fname} = (const int32_t[]){c_ints(value)}")
            else:
                raise AssertionError(kind)
        return "{\n" + _wrap(parts) + "\n}"

    def layer(self, index: int, node: Node) -> CLayer:
        impl = node.impl
        packed = impl.pack(node) if impl.pack else {k: t.data for k, t in node.consts.items()}
        local: list[str] = []
        ins = [self.tensor_ref(t, local) for t in node.inputs]
        out = self.tensor_ref(node.output, local)
        params_decl = None
        pname = f"{node.cid}_p"
        if impl.signature == "plain":
            call = f"{impl.function}({ins[0]}, {out});"
        else:
            params_decl = f"static const {impl.params_type} {pname} = {self.params_init(node, impl, packed)};"
            if impl.signature == "list":
                lst = f"{node.cid}_in"
                local.append(f"const hhbc_tensor *const {lst}[] = {{{', '.join(ins)}}};")
                call = f"{impl.function}({lst}, {out}, &{pname});"
            else:
                call = f"{impl.function}({', '.join(ins)}, {out}, &{pname});"
        macs = f", MACs {node.macs}" if node.macs else ""
        comment = c_comment(f"[{index}] {node.layer or node.op}: {node.describe()}{macs} ({impl.variant})", 200)
        return CLayer(index, comment, params_decl, call, local)


def _wrap(fields: list[str], indent: str = "    ", width: int = 100) -> str:
    """Designated initializers, several to a line, each line at most `width` columns."""
    lines, line = [], ""
    for f in fields:
        item = f + ","
        if line and len(indent) + len(line) + 1 + len(item) > width:
            lines.append(indent + line)
            line = item
        else:
            line = f"{line} {item}" if line else item
    if line:
        lines.append(indent + line)
    return "\n".join(lines)


def generate(model: ImportedModel, graph: KernelGraph, plan: MemoryPlan, target: Target,
             out_dir: Path, prefix: str = "model", vlen: int | None = None,
             command: str = "", scheme: str = "float32") -> dict[str, Any]:
    """Write the project into out_dir; return the manifest."""
    prefix = c_ident(prefix, 24)
    emitter = _Emitter(graph, plan, target, prefix)
    emitter.name_tensors()
    assign_kernels(graph, target)
    layers = [emitter.layer(i, n) for i, n in enumerate(graph.nodes)]
    sources = sorted({s for n in graph.nodes for s in n.impl.sources})
    headers = sorted({h for n in graph.nodes for h in n.impl.headers})
    weight_bytes = sum(int(d.nbytes) for _, d in emitter.weights)
    manifest = _manifest(model, graph, plan, target, prefix, vlen, weight_bytes, command)
    manifest["scheme"] = scheme
    weights = [_weight_view(t, d, emitter.names) for t, d in emitter.weights]
    overwritten = overwritten_inputs(graph, plan)

    context = {
        "prefix": prefix, "PREFIX": prefix.upper(), "target": target, "version": hhbc.__version__,
        "model_name": c_comment(model.source.name), "layers": layers,
        "tensor_decls": emitter.tensor_decls, "arena_bytes": max(plan.arena_bytes, 16),
        "arena_lower_bound": plan.lower_bound,
        "inputs": [_io_view(t, plan, preserved=id(t) not in overwritten) for t in graph.inputs],
        "outputs": [_io_view(t, plan) for t in graph.outputs],
        "weights": weights, "any_bytes": any(w["as_bytes"] for w in weights), "weight_bytes": weight_bytes,
        "kernel_sources": [project_file(s) for s in sources],
        "prototypes": sorted({prototype(n.impl) for n in graph.nodes if n.impl.vector}),
        "extra_headers": [Path(h).name for h in headers if h.endswith(("_i8.h", "_w8.h"))],
        "kernel_headers": [Path(h).name for h in headers],
        "macs": graph.macs, "command": c_comment(command, 400), "scheme": scheme,
        "guard": _guard_view(graph, plan),
    }
    if plan.guard_bytes:
        manifest["guard_bytes"] = plan.guard_bytes
    _write_project(out_dir, context, [*headers, *sources], manifest)
    return manifest


def project_file(rel: str) -> str:
    """A kernel file's name in out/kernels/ (one flat folder): a vector variant's sources carry
    the variant (`c906_conv2d.c`), so a layer that falls back to `ref/conv2d.c` can sit beside
    them; headers have unique names and keep them (the sources include them by name)."""
    path = Path(rel)
    variant = path.parent.name
    return path.name if variant == "ref" or path.suffix == ".h" else f"{variant}_{path.name}"


_ARGS = {"unary": "const hhbc_tensor *in, const hhbc_tensor *out, const {p} *p",
         "binary": "const hhbc_tensor *a, const hhbc_tensor *b, const hhbc_tensor *out, const {p} *p",
         "list": "const hhbc_tensor *const *in, const hhbc_tensor *out, const {p} *p",
         "plain": "const hhbc_tensor *in, const hhbc_tensor *out"}


def prototype(impl: KernelImpl) -> str:
    """The C declaration of a kernel, from its table row (same signature as its ref kernel)."""
    return f"void {impl.function}({_ARGS[impl.signature].format(p=impl.params_type)});"


def _io_view(t: Tensor, plan: MemoryPlan, preserved: bool = True) -> dict:
    """A model input or output for model.h/model.c; `scale`/`zero_point` (C literals) for
    per-tensor quantized IO, else None."""
    per_tensor = t.quant is not None and len(t.quant.scale) == 1 and len(t.quant.zero_point) == 1
    return {"name": c_comment(t.name, 80), "name_str": c_string(t.name), "cid": t.cid,
            "offset": plan.offset(t), "bytes": t.nbytes, "shape": list(t.shape), "dtype": t.dtype,
            "ctype": C_TYPES[t.dtype], "elements": t.size, "preserved": preserved,
            "scale": c_float(t.quant.scale[0]) if per_tensor else None,
            "zero_point": int(t.quant.zero_point[0]) if per_tensor else None}


def overwritten_inputs(graph: KernelGraph, plan: MemoryPlan) -> set[int]:
    """id() of each model input whose arena bytes the plan gives to another tensor (or its
    --guard canary) once the input is dead: after a run such an input no longer holds what the
    caller wrote. The planner keeps live tensors apart, so any overlap is such a reuse."""
    spans = lifetimes(graph)
    found = set()
    for t in graph.inputs:
        key = id(t.storage())
        if key not in spans:
            continue
        lo = plan.offsets[key]
        hi = lo + t.storage().nbytes
        for other, (u, _, _) in spans.items():
            start = plan.offsets[other]
            if other != key and start < hi and lo < start + u.nbytes + plan.guard_bytes:
                found.add(id(t))
                break
    return found


def _guard_view(graph: KernelGraph, plan: MemoryPlan) -> dict | None:
    """--guard: the canaries model.c sets and checks, and each layer's name for its report."""
    if not plan.guard_bytes:
        return None
    return {"bytes": plan.guard_bytes,
            "canaries": [{"offset": offset, "first": first, "last": last, "tensor": c_string(t.name[:120]),
                          "cid": t.cid or "", "bytes": t.nbytes}
                         for t, offset, first, last in canaries(graph, plan)],
            "layer_names": [c_string((n.layer or n.op)[:120]) for n in graph.nodes]}


def _as_bytes(data: np.ndarray) -> bool:
    return data.nbytes >= BYTES_FROM


def _weight_view(t: Tensor, data: np.ndarray, names: NameTable) -> dict:
    """A constant for weights.h/weights.c; one written as bytes gets a union type of its own
    (`type`), which weights.h defines so that the declaration and the definition agree."""
    data = np.ascontiguousarray(data)
    as_bytes = _as_bytes(data)
    return {"symbol": t.cid, "type": names.take(f"{t.cid}_", "bytes") if as_bytes else "",
            "ctype": C_TYPES[str(data.dtype)], "count": max(data.size, 1),
            "shape": "x".join(map(str, data.shape)) or "scalar", "name": c_comment(t.name, 80),
            "as_bytes": as_bytes, "nbytes": data.nbytes,
            "body": c_bytes_body(data) if as_bytes else c_array_body(data) if data.size else "0"}


def _manifest(model, graph, plan, target, prefix, vlen, weight_bytes, command) -> dict:
    return {
        "hhbc_version": hhbc.__version__,
        "model": str(model.source), "format": model.format, "target": target.name, "vlen": vlen,
        "prefix": prefix, "command": command,
        "inputs": [_io_manifest(t) for t in graph.inputs],
        "outputs": [_io_manifest(t) for t in graph.outputs],
        "arena_bytes": plan.arena_bytes, "arena_lower_bound": plan.lower_bound,
        "weight_bytes": weight_bytes, "macs": graph.macs,
        "vector_mac_share": round(vector_mac_share(graph), 6),
        "layers": [{"index": i, "name": n.layer, "op": n.op, "kernel": n.impl.function,
                    "variant": n.impl.variant, "vector": n.impl.vector, "dtype": n.output.dtype,
                    "output_shape": list(n.output.shape), "macs": n.macs}
                   for i, n in enumerate(graph.nodes)],
    }


def _io_manifest(t: Tensor) -> dict:
    """name, shape, dtype; int8 IO also its scale and zero point (to quantize inputs and
    dequantize outputs)."""
    entry = {"name": t.name, "shape": list(t.shape), "dtype": t.dtype}
    if t.quant is not None:
        entry["quant"] = t.quant.to_json()
    return entry


def _write_project(out_dir: Path, context: dict, sources: list[str], manifest: dict) -> None:
    env = _env()
    renders = {"model.h": "model.h.j2", "model.c": "model.c.j2", "weights.c": "weights.c.j2",
               "weights.h": "weights.h.j2", "main.c": "main.c.j2", "Makefile": "Makefile.j2",
               "CMakeLists.txt": "CMakeLists.txt.j2"}
    files: dict[str, str | bytes] = {name: env.get_template(template).render(**context)
                                     for name, template in renders.items()}
    for rel in [*COMMON_HEADERS, *sources]:
        files[f"kernels/{project_file(rel)}"] = (KERNELS_DIR / rel).read_bytes()
    writer = ProjectWriter(out_dir)
    manifest["files"] = writer.write_all(files)
    writer.write(MANIFEST, json.dumps(manifest, indent=2) + "\n")
