"""The static arena planner: no live overlap, aliases share storage, near the lower bound."""

from __future__ import annotations

import numpy as np
import pytest

from hhbc.lower.graph import KernelGraph, Node, Tensor
from hhbc.lower.memory import ALIGN, lifetimes, plan_memory


def _random_graph(rng: np.random.Generator, n_nodes: int) -> KernelGraph:
    """A DAG whose nodes read one or two earlier tensors; some outputs are reshape views."""
    x = Tensor("x", (int(rng.integers(1, 64)),), kind="input")
    live = [x]
    nodes = []
    for i in range(n_nodes):
        k = int(rng.integers(1, 3))
        ins = [live[int(j)] for j in rng.choice(len(live), size=min(k, len(live)), replace=False)]
        out = Tensor(f"t{i}", (int(rng.integers(1, 200)),))
        nodes.append(Node("binary" if len(ins) == 2 else "unary", ins, out))
        live.append(out)
        if rng.random() < 0.2:
            live.append(Tensor(f"v{i}", out.shape, alias_of=out))
    outputs = [live[-1]]
    outputs[0].kind = "output" if outputs[0].alias_of is None else outputs[0].kind
    return KernelGraph([x], outputs, nodes)


@pytest.mark.parametrize("seed", range(25))
def test_live_tensors_never_overlap(seed):
    rng = np.random.default_rng(seed)
    graph = _random_graph(rng, int(rng.integers(2, 40)))
    plan = plan_memory(graph)
    spans = list(lifetimes(graph).values())
    for i, (a, af, al) in enumerate(spans):
        oa = plan.offset(a)
        assert oa % ALIGN == 0
        assert oa + a.nbytes <= plan.arena_bytes
        for b, bf, bl in spans[i + 1:]:
            if af <= bl and bf <= al:   # both live at some step
                ob = plan.offset(b)
                assert oa + a.nbytes <= ob or ob + b.nbytes <= oa, (a.name, b.name)
    assert plan.arena_bytes >= plan.lower_bound


def test_aliases_share_storage_and_extend_lifetime():
    x = Tensor("x", (16,), kind="input")
    a = Tensor("a", (16,))
    view = Tensor("view", (4, 4), alias_of=a)
    b = Tensor("b", (16,))
    c = Tensor("c", (16,))
    y = Tensor("y", (16,), kind="output")
    graph = KernelGraph([x], [y], [Node("unary", [x], a), Node("unary", [x], b),
                                   Node("unary", [b], c), Node("binary", [view, c], y)])
    plan = plan_memory(graph)
    assert plan.offset(view) == plan.offset(a)
    span = lifetimes(graph)[id(a)]
    assert span[1:] == (0, 3)      # a stays live until its view is read at step 3
    # a (via view) is live with b and c, so none of them may share a's bytes
    for other in (b, c):
        assert abs(plan.offset(other) - plan.offset(a)) >= 64


def test_chain_reuses_two_buffers():
    x = Tensor("x", (100,), kind="input")
    prev, nodes = x, []
    for i in range(10):
        out = Tensor(f"t{i}", (100,))
        nodes.append(Node("unary", [prev], out))
        prev = out
    prev.kind = "output"
    plan = plan_memory(KernelGraph([x], [prev], nodes))
    assert plan.arena_bytes == plan.lower_bound == 2 * 400


def test_real_model_arena_is_close_to_bound(tmp_path):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
    import onnx
    from make_kws_dscnn import build_model

    from hhbc.frontends import load_model
    from hhbc.lower.from_relax import lower
    from hhbc.optimize import optimize

    path = tmp_path / "kws.onnx"
    onnx.save(build_model(), str(path))
    model = load_model(path)
    plan = plan_memory(lower(model, optimize(model.mod)))
    assert plan.lower_bound <= plan.arena_bytes <= plan.lower_bound * 1.05
