"""Original layer names, carried through Relax as call spans.

Relax passes rename variables freely, but most keep each Call's span, so a
frontend stamps every call it creates with the model file's layer name, the
rewrites in optimize/ hand spans on to the calls they build, and lowering
reads them back for the comments in model.c.
"""

from __future__ import annotations

import re

import tvm
from tvm import relax


def stamp(expr: relax.Expr, layer: str) -> relax.Expr:
    """Give every call in `expr` that has no span yet the span of `layer`."""
    if not isinstance(expr, relax.Call) or not layer:
        return expr
    args = [stamp(a, layer) for a in expr.args]
    span = expr.span if expr.span is not None else tvm.ir.Span(tvm.ir.SourceName(layer), 0, 0, 0, 0)
    return relax.Call(expr.op, args, expr.attrs, expr.ty_args, span)


def emit_stamped(bb: relax.BlockBuilder, expr: relax.Expr, layer: str) -> relax.Expr:
    """`stamp`, then bind the nested calls one by one.

    Normalizing a nested expression rebuilds each outer call around the vars
    of its inner ones and drops its span; emitting inside-out keeps them all.
    """
    if not isinstance(expr, relax.Call):
        return expr
    args = []
    for arg in expr.args:
        if isinstance(arg, relax.Call):
            arg = bb.emit(emit_stamped(bb, arg, layer))
        elif isinstance(arg, relax.Tuple):
            arg = relax.Tuple([bb.emit(emit_stamped(bb, f, layer)) if isinstance(f, relax.Call) else f
                               for f in arg.fields])
        args.append(arg)
    span = expr.span if expr.span is not None else tvm.ir.Span(tvm.ir.SourceName(layer), 0, 0, 0, 0)
    return relax.Call(expr.op, args, expr.attrs, expr.ty_args, span)


def bound_values(func: relax.Function) -> dict[relax.Var, relax.Expr]:
    """Var -> the expression bound to it, for rewrites that are handed vars."""
    return {b.var: b.value for block in func.body.blocks for b in block.bindings}


def inherit(new: relax.Expr, old: relax.Expr, bindings: dict | None = None) -> relax.Expr:
    """`new` (and calls nested in it) take the layer of the call `old` they replace.

    rewrite_call may hand over the var a call is bound to; `bindings` resolves it.
    """
    if isinstance(old, relax.Var) and bindings:
        old = bindings.get(old, old)
    name = layer_of(old)
    return stamp(new, name) if name else new


def layer_of(expr: relax.Expr) -> str | None:
    if isinstance(expr, relax.Call) and expr.span is not None:
        return str(expr.span.source_name.name)
    return None


def layers_in(func: relax.Function) -> list[str]:
    """Layer names of the calls in a (fused) function, in order, without repeats."""
    names: dict[str, None] = {}
    for block in func.body.blocks:
        for binding in block.bindings:
            name = layer_of(binding.value)
            if name:
                names.setdefault(name)
    return list(names)


def keeping_layers(inner: tvm.ir.transform.Pass, align: bool = False) -> tvm.ir.transform.Pass:
    """Run `inner`, then give back the spans it dropped from calls it rebuilt.

    Two ways a call is recognised as the same layer after the pass:
      * its binding var is unchanged (rewrite_call rebuilds the call it returns
        without a span, but binds it to the old var; the var of a tuple item
        stands for the call that made the tuple);
      * with `align` (for ConvertLayout, which makes new vars but keeps the order
        of calls, only inserting transposes) the old and new call sequences
        align by op.
    """

    @tvm.transform.module_pass(opt_level=0, name=f"hhbc.KeepLayers({inner.info.name})")
    def run(mod, ctx):
        old = _op_bindings(mod["main"])
        by_var = {var: layer_of(call) for var, call in old}
        # A tuple item (e.g. batch_norm's output 0) belongs to the layer of its call:
        # a pass that replaces it (FoldBatchNorm) keeps that layer's name.
        values = bound_values(mod["main"])
        for var, value in values.items():
            if isinstance(value, relax.TupleGetItem) and isinstance(value.tuple_value, relax.Var):
                by_var[var] = layer_of(values.get(value.tuple_value))
        mod = inner(mod)
        layers, i = [], 0
        for var, call in _op_bindings(mod["main"]):
            j = i
            while j < len(old) and old[j][1].op != call.op:
                j += 1
            aligned = None
            if align and j < len(old):
                aligned, i = layer_of(old[j][1]), j + 1
            layers.append(by_var.get(var) or aligned)
        mod["main"] = _Restamper(layers).visit_expr(mod["main"])
        return mod

    return run


def _op_bindings(func: relax.Function) -> list[tuple[relax.Var, relax.Call]]:
    return [(b.var, b.value) for block in func.body.blocks for b in block.bindings
            if isinstance(b.value, relax.Call) and isinstance(b.value.op, tvm.ir.Op)]


@relax.expr_functor.mutator
class _Restamper(relax.PyExprMutator):
    """Stamps the k-th op call of a function with layers[k] where it has no span."""

    def __init__(self, layers: list[str | None]):
        super().__init__()
        self.layers = layers
        self.k = 0

    def visit_call_(self, call):
        new = super().visit_call_(call)
        if isinstance(call.op, tvm.ir.Op) and self.k < len(self.layers):
            layer = self.layers[self.k]
            self.k += 1
            if layer and new.span is None:
                new = stamp(new, layer)
        return new


class BindingNames:
    """Readable, unique Relax binding names derived from layer names (for `-v` IR).

    The span carries the real name; this only keeps the printed IR legible.
    """

    def __init__(self) -> None:
        self.used: set[str] = set()

    def __call__(self, layer: str) -> str:
        # The tail of a long scoped name (a/b/c/Conv2D) is the informative part.
        base = re.sub(r"\W", "_", layer, flags=re.ASCII).strip("_")[-40:].strip("_") or "layer"
        if not base[0].isalpha():
            base = "l_" + base
        hint, k = base, 1
        while hint in self.used:
            k += 1
            hint = f"{base}_{k}"
        self.used.add(hint)
        return hint
