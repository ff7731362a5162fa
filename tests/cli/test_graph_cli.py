"""`hhbc graph` from the shell: one node per layer of the manifest, and the Relax view."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import onnx

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
from make_kws_dscnn import build_model  # noqa: E402


def test_graph_dot_has_one_node_per_layer(cli, tmp_path):
    model = tmp_path / "kws.onnx"
    onnx.save(build_model(), model)
    proc = cli("graph", str(model), "--target", "c906", "-o", str(tmp_path / "g.dot"), "-q")
    assert proc.returncode == 0, proc.stderr
    dot = (tmp_path / "g.dot").read_text()
    proc = cli("compile", str(model), "--target", "c906", "-o", str(tmp_path / "out"), "-q")
    layers = json.loads((tmp_path / "out" / "manifest.json").read_text())["layers"]
    assert sorted(set(re.findall(r"^\s*(L\d+) \[", dot, re.M))) == sorted(f"L{i}" for i in range(len(layers)))
    proc = cli("graph", str(model), "--after-optimization", "-o", str(tmp_path / "r.dot"), "-q")
    assert proc.returncode == 0, proc.stderr
    assert "conv2d" in (tmp_path / "r.dot").read_text()
