"""Kernel selection: which row of the kernel table implements each KernelGraph node.

Selection happens at compile time: for each node, the first variant in the target's
`kernel_variants` chain with a row that reads the node's dtypes and supports the node wins.
"""

from __future__ import annotations

from hhbc.codegen.kernel_impl import KernelImpl
from hhbc.codegen.kernel_table import TABLE
from hhbc.codegen.params import PARAM_FIELDS  # noqa: F401  (re-exported for codegen)
from hhbc.errors import HhbcError
from hhbc.lower.graph import KernelGraph, Node
from hhbc.targets import Target

COMMON_HEADERS = ("include/hhbc_kernels.h", "include/hhbc_act.h")


def select_kernel(node: Node, target: Target) -> KernelImpl:
    """First implementation along the target's variant chain that takes this node. A kernel
    reads its data with one C type, so one for other dtypes is never chosen: a mismatch is an
    error, never garbage read through the wrong type."""
    for variant in target.kernel_variants:
        for impl in TABLE:
            if impl.op == node.op and impl.variant == variant and _reads(node, impl) and impl.supports(node):
                return impl
    got = sorted({t.dtype for t in node.inputs if t.kind != "const"})
    raise HhbcError(f"layer '{node.layer}': no kernel for {node.describe()} "
                    f"({'/'.join(got)} -> {node.output.dtype}) on target '{target.name}'")


def assign_kernels(graph: KernelGraph, target: Target) -> None:
    """Choose every node's kernel (node.impl)."""
    for node in graph.nodes:
        node.impl = select_kernel(node, target)


def vector_mac_share(graph: KernelGraph) -> float:
    """Fraction of the model's MACs that run in vector kernels (after assign_kernels)."""
    total = graph.macs
    vec = sum(n.macs for n in graph.nodes if n.impl is not None and n.impl.vector)
    return vec / total if total else 0.0


# Inputs a kernel reads as integer indices (int32 or int64, told by its params), not as data.
INDEX_INPUTS = {"gather": 1}


def _reads(node: Node, impl: KernelImpl) -> bool:
    want_in, want_out = impl.dtypes
    index = INDEX_INPUTS.get(node.op)
    return node.output.dtype == want_out and all(t.dtype == want_in for k, t in enumerate(node.inputs)
                                                  if t.kind != "const" and k != index)
