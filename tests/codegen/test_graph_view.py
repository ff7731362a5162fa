"""`hhbc graph`'s picture: the kernel graph as DOT (and SVG/PNG through Graphviz's dot)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from hhbc.compiler import compile_model
from hhbc.errors import HhbcError
from hhbc.frontends import load_model
from hhbc.graph_view import dot_text, write_graph, write_relax_graph
from hhbc.optimize import optimize
from hhbc.targets import get_target

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples"))
from make_kws_dscnn import build_model  # noqa: E402

DOT = shutil.which("dot")
needs_dot = pytest.mark.skipif(DOT is None, reason="Graphviz's dot is not installed (apt-get install graphviz)")
SVG = "{http://www.w3.org/2000/svg}"

HOSTILE = {
    "input": 'in"put } { digraph x {',
    "conv": "conv\n\"}\r\tend",
    "relu": "relu \\N \\G trailing backslash \\",
    "pool": "tête-à-tête ✓ 模型 🚀 <b>html</b> & ; -> [label=x]",
    "gap2": "x" * 300,
}


def _lex(text: str) -> tuple[str, list[str]]:
    """DOT with its quoted strings cut out, and the strings (a small lexer): fails on a string
    that is not closed on its line or a backslash at the end of a string."""
    code, strings, i, n = [], [], 0, len(text)
    while i < n:
        if text[i] == '"':
            j = i + 1
            while text[j] != '"':
                assert text[j] != "\n", f"newline inside a DOT string: {text[i:j]!r}"
                j += 2 if text[j] == "\\" else 1
            strings.append(text[i + 1:j])
            code.append('""')
            i = j + 1
        else:
            code.append(text[i])
            i += 1
    return "".join(code), strings


def _statements(dot: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Node ids and edges (from, to) of hhbc's DOT, read from the code outside strings."""
    code, _ = _lex(dot)
    assert code.count("{") == 1 and code.count("}") == 1 and code.strip().startswith("digraph hhbc {")
    nodes = re.findall(r"^\s+(\w+) \[", code, re.M)
    edges = re.findall(r"^\s+(\w+) -> (\w+) \[", code, re.M)
    return [n for n in nodes if n not in ("graph", "node", "edge")], edges


def _expected_edges(graph) -> int:
    """One edge per activation operand of every layer and one per model output."""
    return sum(1 for n in graph.nodes for t in n.inputs if t.kind != "const") + len(graph.outputs)


@pytest.fixture(scope="module")
def kws(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("graph_kws")
    model = tmp / "kws_dscnn.onnx"
    onnx.save(build_model(), str(model))
    return compile_model(model, get_target("host"), tmp / "out")


def _hostile_model(path: Path) -> Path:
    rng = np.random.default_rng(3)
    h = HOSTILE
    w = numpy_helper.from_array(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), 'w"}')
    nodes = [
        helper.make_node("Conv", [h["input"], w.name], [h["conv"]], name=h["conv"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", [h["conv"]], [h["relu"]], name=h["relu"]),
        helper.make_node("GlobalAveragePool", [h["relu"]], [h["pool"]], name=h["pool"]),
        helper.make_node("Flatten", [h["pool"]], ["y}"], name="flatten\n}"),
        helper.make_node("Add", [h["relu"], h["relu"]], [h["gap2"]], name=h["gap2"]),
    ]
    graph = helper.make_graph(
        nodes, 'g"}',
        [helper.make_tensor_value_info(h["input"], TensorProto.FLOAT, [1, 3, 6, 6])],
        [helper.make_tensor_value_info("y}", TensorProto.FLOAT, [1, 4]),
         helper.make_tensor_value_info(h["gap2"], TensorProto.FLOAT, [1, 4, 6, 6])],
        initializer=[w])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    return path


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("graph_hostile")
    return compile_model(_hostile_model(tmp / 'hostile "}.onnx'), get_target("host"), tmp / "out")


def test_dot_has_one_node_per_layer_and_an_edge_per_operand(kws, tmp_path):
    path = write_graph(kws, kws.manifest, tmp_path / "graph.dot")
    dot = path.read_text(encoding="utf-8")
    nodes, edges = _statements(dot)
    layers = kws.manifest["layers"]
    assert [n for n in nodes if n.startswith("L")] == [f"L{i}" for i in range(len(layers))]
    assert [n for n in nodes if n.startswith("in")] == [f"in{i}" for i in range(len(kws.manifest["inputs"]))]
    assert [n for n in nodes if n.startswith("out")] == [f"out{i}" for i in range(len(kws.manifest["outputs"]))]
    assert len(nodes) == len(layers) + len(kws.manifest["inputs"]) + len(kws.manifest["outputs"])
    assert len(edges) == _expected_edges(kws.graph)
    assert ("in0", "L0") in edges and (f"L{len(layers) - 1}", "out0") in edges
    for src, dst in edges:
        assert src in nodes and dst in nodes
    # each layer's box: its op, the kernel codegen chose, its MACs
    for layer in layers:
        box = re.search(rf'^\s+L{layer["index"]} \[.*label="([^\n]*)"\];$', dot, re.M).group(1)
        assert f'{layer["op"]} → {layer["kernel"]}' in box
        assert f'{layer["macs"]:,} MACs' in box
        assert "x".join(map(str, layer["output_shape"])) in box
    # a 1x25x5x64 float32 activation: 32,000 bytes on the edge
    assert '1x25x5x64 float32\\n31.2 KiB"' in dot


def test_arena_offsets_are_the_ones_model_c_uses(kws, tmp_path):
    """The picture's offsets (the planner rerun) equal the HHBC_ARENA offsets in model.c."""
    dot = write_graph(kws, None, tmp_path / "graph.gv").read_text(encoding="utf-8")
    model_c = (kws.out_dir / "model.c").read_text()
    checked = 0
    for i, node in enumerate(kws.graph.nodes):
        if node.output.alias_of is not None:
            continue
        c_offset = re.search(rf"\b{re.escape(node.output.cid)} = {{HHBC_ARENA\((\d+)\)", model_c).group(1)
        box = re.search(rf'^\s+L{i} \[.*$', dot, re.M).group(0)
        assert f"arena @{c_offset}" in box, (node.output.cid, box)
        checked += 1
    assert checked == len(kws.graph.nodes)
    assert f'arena {kws.manifest["arena_bytes"]:,} B' in dot


def test_hostile_names_give_valid_dot(hostile, tmp_path):
    dot = write_graph(hostile, hostile.manifest, tmp_path / "hostile.dot").read_text(encoding="utf-8")
    nodes, edges = _statements(dot)          # strings closed on their line, braces balanced
    layers = hostile.manifest["layers"]
    assert sum(n.startswith("L") for n in nodes) == len(layers)
    assert len(edges) == _expected_edges(hostile.graph)
    _, strings = _lex(dot)
    labels = "\n".join(strings)
    assert "conv\\\\u000a\\\"}\\\\u000d\\\\u0009end" in labels      # newline/CR/tab visible, quote escaped
    assert "relu \\\\N \\\\G trailing backslash \\\\" in labels        # no Graphviz \N substitution
    assert "模型 🚀 <b>html</b>" in labels
    assert "x" * 300 not in labels and "x" * 45 + "..." in labels    # long names cut


@needs_dot
def test_hostile_names_render_to_svg(hostile, tmp_path):
    svg = write_graph(hostile, hostile.manifest, tmp_path / "hostile.svg")
    root = ET.parse(svg).getroot()
    groups = root.iter(f"{SVG}g")
    classes = [g.get("class") for g in groups]
    layers = len(hostile.manifest["layers"])
    io = len(hostile.manifest["inputs"]) + len(hostile.manifest["outputs"])
    assert classes.count("node") == layers + io
    assert classes.count("edge") == _expected_edges(hostile.graph)
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert any("conv\\u000a\"}\\u000d\\u0009end" in t for t in texts), texts
    assert any("relu \\N \\G trailing backslash \\" in t for t in texts), texts
    assert any("模型 🚀 <b>html</b>" in t for t in texts), texts


@needs_dot
def test_png_and_svg_of_the_demo(kws, tmp_path):
    png = write_graph(kws, kws.manifest, tmp_path / "graph.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = write_graph(kws, kws.manifest, tmp_path / "graph.svg")
    classes = [g.get("class") for g in ET.parse(svg).getroot().iter(f"{SVG}g")]
    assert classes.count("node") == len(kws.manifest["layers"]) + 2


@needs_dot
def test_dot_accepts_the_text_itself(kws, tmp_path):
    """The .dot file as written parses with Graphviz (what a user's viewer does with it)."""
    path = write_graph(kws, kws.manifest, tmp_path / "graph.dot")
    done = subprocess.run([DOT, "-Tcanon", str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and not done.stderr, done.stderr


def test_without_dot_the_dot_file_is_written_and_the_error_says_how_to_install(kws, tmp_path, monkeypatch):
    empty = tmp_path / "empty_path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))          # Graphviz really absent from the search path
    with pytest.raises(HhbcError) as err:
        write_graph(kws, kws.manifest, tmp_path / "graph.svg")
    message = str(err.value)
    assert "\n" not in message and "apt-get install graphviz" in message and "graph.dot" in message
    assert not (tmp_path / "graph.svg").exists()
    nodes, _ = _statements((tmp_path / "graph.dot").read_text(encoding="utf-8"))
    assert sum(n.startswith("L") for n in nodes) == len(kws.manifest["layers"])


def test_bad_output_paths_are_one_line_errors(kws, tmp_path):
    with pytest.raises(HhbcError, match=r"unknown picture format '\.jpg'"):
        write_graph(kws, kws.manifest, tmp_path / "graph.jpg")
    with pytest.raises(HhbcError, match="does not exist"):
        write_graph(kws, kws.manifest, tmp_path / "missing" / "graph.dot")
    assert not list(tmp_path.iterdir())


def test_dot_text_escapes():
    assert dot_text('a"b\\c') == 'a\\"b\\\\c'
    assert dot_text("a\nb\x00") == "a\\\\u000ab\\\\u0000"
    assert dot_text("模型") == "模型"
    assert dot_text("y" * 100, 10) == "yyyyyyy..."


def test_relax_view_after_optimization(kws, tmp_path):
    """--after-optimization's picture: one box per call of the optimized main, fused composites
    named by their pattern with the layers they merged."""
    mod = optimize(load_model(Path(kws.manifest["model"])).mod)
    calls = [b for blk in mod["main"].body.blocks for b in blk.bindings if type(b.value).__name__ == "Call"]
    dot = write_relax_graph(mod, tmp_path / "relax.dot").read_text(encoding="utf-8")
    nodes, edges = _statements(dot)
    assert [n for n in nodes if n.startswith("R")] == [f"R{i}" for i in range(len(calls))]
    assert dot.count("= hhbc.conv2d_bias_relu") == 9 and "pw4 + pw4/relu" in dot
    assert ("in0", "R0") in edges and (f"R{len(calls) - 1}", "out0") in edges
    assert "1x25x5x64 float32" in dot


@needs_dot
def test_relax_view_of_hostile_names_renders(hostile, tmp_path):
    mod = optimize(load_model(Path(hostile.manifest["model"])).mod)
    dot = write_relax_graph(mod, tmp_path / "relax.dot")
    nodes, edges = _statements(dot.read_text(encoding="utf-8"))
    assert sum(n.startswith("out") for n in nodes) == 2
    done = subprocess.run([DOT, "-Tsvg", "-o", str(tmp_path / "relax.svg"), str(dot)], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0 and not done.stderr, done.stderr
    classes = [g.get("class") for g in ET.parse(tmp_path / "relax.svg").getroot().iter(f"{SVG}g")]
    assert classes.count("node") == len(nodes) and classes.count("edge") == len(edges)
