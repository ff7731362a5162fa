"""The body of one composite function (a fused group), read by the lowerings of every family
(float fusion, int8, weight-only): its calls by op name and its vars resolved to their values."""

from __future__ import annotations

import tvm
from tvm import relax


class CompositeBody:
    def __init__(self, fn: relax.Function):
        self.values: dict[relax.Var, relax.Expr] = {}
        self.calls: dict[str, relax.Call] = {}     # the first call of each op
        for block in fn.body.blocks:
            for b in block.bindings:
                self.values[b.var] = b.value
                if isinstance(b.value, relax.Call) and isinstance(b.value.op, tvm.ir.Op):
                    self.calls.setdefault(b.value.op.name, b.value)
        self.output = self.value(fn.body.body)

    def value(self, expr):
        """What a var is bound to, through chains of vars; anything else as is."""
        while isinstance(expr, relax.Var) and expr in self.values:
            expr = self.values[expr]
        return expr

    def call(self, expr) -> relax.Call | None:
        """The op call `expr` stands for, if it is one."""
        v = self.value(expr)
        return v if isinstance(v, relax.Call) and isinstance(v.op, tvm.ir.Op) else None

    def op(self, expr, name: str) -> relax.Call | None:
        """The call `expr` stands for, if it is a call of op `name`."""
        v = self.call(expr)
        return v if v is not None and v.op.name == name else None
