"""Node and tensor names a model file may hold must not break the generated C."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from hhbc.runner import run_and_compare
from hhbc.targets import get_target

HOSTILE = [
    'in"put */ #define x 1',
    "conv\n/* newline */\r\tend",
    "relu ?? \\ trailing backslash \\",
    "tête-à-tête ✓ 模型 🚀",
    "int",          # a C keyword
    "0starts_with_digit",
    "",             # empty node name
]


def _hostile_model(path):
    rng = np.random.default_rng(1)
    x, conv, act, gap, y = HOSTILE[0], HOSTILE[1], HOSTILE[2], HOSTILE[3], HOSTILE[4]
    w = numpy_helper.from_array(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), "w*/\"")
    b = numpy_helper.from_array(rng.standard_normal(4).astype(np.float32), "b\n")
    nodes = [
        helper.make_node("Conv", [x, w.name, b.name], [conv], name=HOSTILE[1], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", [conv], [act], name=HOSTILE[2]),
        helper.make_node("GlobalAveragePool", [act], [gap], name=HOSTILE[5]),
        helper.make_node("Flatten", [gap], [y], name=HOSTILE[6]),
        helper.make_node("Sigmoid", [act], [HOSTILE[3] + "_2"], name=HOSTILE[3]),
    ]
    graph = helper.make_graph(
        nodes, "hostile */ graph",
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, 3, 6, 6])],
        [helper.make_tensor_value_info(y, TensorProto.FLOAT, [1, 4]),
         helper.make_tensor_value_info(HOSTILE[3] + "_2", TensorProto.FLOAT, [1, 4, 6, 6])],
        initializer=[w, b])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    return path


def _code_only(source: str) -> str:
    """The C source with comments and string literals removed (a small lexer)."""
    out, i, n = [], 0, len(source)
    while i < n:
        if source.startswith("/*", i):
            end = source.find("*/", i + 2)
            assert end >= 0, "unterminated comment"
            i = end + 2
        elif source.startswith("//", i):
            i = source.find("\n", i)
            i = n if i < 0 else i
        elif source[i] == '"':
            i += 1
            while source[i] != '"':
                assert source[i] != "\n", "newline inside a string literal"
                i += 2 if source[i] == "\\" else 1
            i += 1
            out.append('""')
        else:
            out.append(source[i])
            i += 1
    return "".join(out)


@pytest.mark.parametrize("target", ["host", "c908"])
def test_hostile_names_compile_with_werror_and_match(tmp_path, target):
    model = _hostile_model(tmp_path / "hostile.onnx")
    out = tmp_path / "out"
    result = run_and_compare(model, get_target(target), out_dir=out, prefix="my model*/")
    for c in result.comparisons:
        assert c.ok, c.line()
    makefile = (out / "Makefile").read_text()
    assert "-Werror" in makefile and "-Wall -Wextra" in makefile
    source = (out / "model.c").read_text()
    assert all(ord(ch) < 128 for ch in source)
    code = _code_only(source)
    assert "#define x 1" not in code
    names = [o["name"] for o in result.compiled.manifest["outputs"]]
    assert names == [HOSTILE[4], HOSTILE[3] + "_2"]
    assert "my_model_run" in (out / "model.h").read_text()
