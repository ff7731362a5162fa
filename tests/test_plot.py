"""hhbc/plot.py: the `hhbc bench --plot` pictures, drawn from real `hhbc.benchmark.bench` runs of
the demo DS-CNN (examples/make_kws_dscnn.py) under QEMU, checked from the figure's artists and
from the written PNG/SVG; and the one-line errors for a bad path or a missing matplotlib
(hidden for real in a child Python, as tests/cli/test_doctor.py does)."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from hhbc.benchmark import BenchResult, bench
from hhbc.errors import HhbcError
from hhbc.plot import (MISSING, VECTOR_COLOR, align_layers, anchor, check_plot_path, compare_figure,
                       layer_label, plot_compare, plot_profile, profile_figure, vector_count)
from hhbc.targets import get_target


HIDE_MATPLOTLIB = '''
import sys


class _Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "matplotlib":
            raise ModuleNotFoundError("No module named 'matplotlib'", name="matplotlib")
        return None


sys.meta_path.insert(0, _Refuse())
'''


@pytest.fixture(scope="module")
def demo(demo_model) -> Path:
    """The demo DS-CNN (tests/conftest.py)."""
    return demo_model


@pytest.fixture(scope="module")
def runs(demo) -> dict[str, BenchResult]:
    """The demo DS-CNN counted on c906 and c908 (float32), and int8 on c906."""
    from hhbc.frontends import ImportOptions, load_model
    from hhbc.quantize.ptq import PtqOptions

    rng = np.random.default_rng(0)
    infos = load_model(demo, ImportOptions()).inputs
    ptq = PtqOptions(samples=[[(rng.standard_normal(i.shape) * 10).astype(np.float32) for i in infos]
                              for _ in range(4)])
    return {"c906": bench(demo, get_target("c906")),
            "c908": bench(demo, get_target("c908")),
            "c906 int8": bench(demo, get_target("c906"), scheme="int8_asym_w_sym", ptq=ptq)}


def bar_widths(ax) -> list[list[float]]:
    """Widths of the rectangles of each bar container of `ax`, in drawing order."""
    return [[patch.get_width() for patch in container.patches] for container in ax.containers]


@pytest.mark.qemu
def test_profile_figure_has_one_bar_per_layer_and_segment(runs):
    r = runs["c906"]
    n = len(r.layers)
    assert n == 12
    fig = profile_figure(r)
    ax, macs_ax = fig.axes
    scalar, vector = bar_widths(ax)
    assert len(scalar) == len(vector) == n
    assert vector == [vector_count(layer.counts) for layer in r.layers]
    assert [s + v for s, v in zip(scalar, vector)] == [layer.counts["total"] for layer in r.layers]
    assert sum(vector) > 0.3 * r.instructions            # c906 float32 runs in vector kernels
    kernels = [t.get_text() for t in ax.texts if t.get_gid() == "kernel"]
    assert kernels == [layer.kernel for layer in r.layers]
    # first layer on top: y grows downwards and tick k names layer k
    bottom, top = ax.get_ylim()
    assert bottom > top
    assert [t.get_text() for t in ax.get_yticklabels()] == [layer_label(layer.name) for layer in r.layers]
    assert layer_label(r.layers[0].name) == "conv0 + relu"
    # the MACs axis: one marker per layer at that layer's MACs
    assert macs_ax.get_xlabel() == "MACs per layer"
    (marks,) = macs_ax.get_lines()
    assert list(marks.get_xdata()) == [layer.macs for layer in r.layers]
    assert list(marks.get_ydata()) == list(range(n))
    title = fig.get_suptitle()
    assert "c906" in title and "float32" in title and f"{r.instructions:,} instructions" in title


@pytest.mark.qemu
def test_profile_png_opens_and_is_not_blank(runs, tmp_path):
    from PIL import Image

    out = plot_profile(runs["c906"], tmp_path / "profile.png")
    assert out == tmp_path / "profile.png"
    with Image.open(out) as image:
        assert image.format == "PNG"
        width, height = image.size
        pixels = np.asarray(image.convert("RGB")).astype(np.int32)
    assert 800 <= width <= 2000 and 350 <= height <= 2000, image.size
    gray = pixels.mean(axis=2)
    assert gray.std() > 30
    assert (gray < 250).mean() > 0.15                    # well more than a frame and some text
    vector_rgb = np.array([int(VECTOR_COLOR[k:k + 2], 16) for k in (1, 3, 5)])
    assert (np.abs(pixels - vector_rgb).sum(axis=2) < 10).sum() > 5000   # the vector segments


@pytest.mark.qemu
def test_profile_svg_is_small_text_and_reproducible(runs, tmp_path):
    r = runs["c906"]
    first = plot_profile(r, tmp_path / "a.svg").read_bytes()
    second = plot_profile(r, tmp_path / "b.svg").read_bytes()
    assert first == second                               # no date, no random ids
    assert len(first) < 80_000
    root = ET.fromstring(first)
    texts = "".join(root.itertext())
    assert all(layer.kernel in texts for layer in r.layers)
    assert f"{r.instructions:,}" in texts


@pytest.mark.qemu
def test_compare_c906_c908_has_two_bars_per_layer(runs, tmp_path):
    from PIL import Image

    a, b = runs["c906"], runs["c908"]
    assert [l.name for l in a.layers] == [l.name for l in b.layers]
    fig = compare_figure([a, b], ["c906", "c908"])
    ax = fig.axes[0]
    widths = bar_widths(ax)
    assert sum(len(w) for w in widths) == 2 * len(a.layers)
    assert widths == [[l.counts["total"] for l in a.layers], [l.counts["total"] for l in b.layers]]
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == [f"c906: {a.instructions:,} instructions ({100 * vector_count(a.totals) / a.instructions:.0f}% "
                      f"vector)", f"c908: {b.instructions:,} instructions "
                      f"({100 * vector_count(b.totals) / b.instructions:.0f}% vector)"]
    ratios = [t.get_text() for t in ax.texts if t.get_gid() == "ratio"]
    assert len(ratios) == sum(1 for x, y in zip(a.layers, b.layers) if x.counts["total"] and y.counts["total"])
    out = plot_compare([a, b], ["c906", "c908"], tmp_path / "compare.png")
    with Image.open(out) as image:
        assert image.size[0] >= 800 and np.asarray(image.convert("L")).std() > 30


@pytest.mark.qemu
def test_compare_float_with_int8_matches_layers_by_name(runs):
    f, q = runs["c906"], runs["c906 int8"]
    assert [l.name for l in f.layers] != [l.name for l in q.layers]   # int8 adds (de)quantize layers
    rows = align_layers([f, q])
    # every layer of each run appears once, in its run's order
    for k, r in enumerate((f, q)):
        assert [row[k] for _, row in rows if row[k] is not None] == r.layers
    matched = [(x, y) for _, (x, y) in rows if x is not None and y is not None]
    assert all(anchor(x.name) == anchor(y.name) for x, y in matched)
    assert len(matched) == len(f.layers)                 # every float layer has its int8 twin
    only_int8 = [y.name for _, (x, y) in rows if x is None]
    assert rows[0][1][0] is None and rows[-1][1][0] is None, only_int8   # quantize first, dequantize last
    fig = compare_figure([f, q], ["float32", "int8"])
    assert sum(len(w) for w in bar_widths(fig.axes[0])) == 2 * len(rows)
    missing = [t.get_text() for t in fig.axes[0].texts if t.get_text().startswith("not in")]
    assert missing == ["not in float32"] * len(only_int8)
    # a third run with the float layer list lines up with the same rows
    three = align_layers([f, q, runs["c908"]])
    assert [name for name, _ in three] == [name for name, _ in rows]
    assert [row[2] is None for _, row in three] == [row[0] is None for _, row in rows]


def test_check_plot_path_suffixes(tmp_path):
    assert check_plot_path(tmp_path / "p.png") == tmp_path / "p.png"
    assert check_plot_path(str(tmp_path / "p.SVG")) == tmp_path / "p.SVG"
    for bad in ("p.pdf", "p"):
        with pytest.raises(HhbcError) as err:
            check_plot_path(tmp_path / bad)
        message = str(err.value)
        assert str(tmp_path / bad) in message and ".png" in message and ".svg" in message
        assert "\n" not in message


@pytest.mark.qemu
def test_unwritable_plot_path_names_it(runs, tmp_path):
    target = tmp_path / "no such dir" / "p.png"
    with pytest.raises(HhbcError, match="no such dir"):
        plot_profile(runs["c906"], target)


def test_compare_needs_a_label_per_result():
    with pytest.raises(HhbcError, match="one label per result"):
        compare_figure([], [])


def test_layer_labels():
    assert layer_label("Conv_0 + Relu_1") == "Conv_0 + Relu_1"
    assert layer_label("functional_1/conv2d/BiasAdd + functional_1/activation/Relu") == "conv2d/BiasAdd + Relu"
    long = "a" * 50
    assert layer_label(long) == "a" * 15 + "…" + "a" * 16 and len(layer_label(long)) == 32
    assert anchor("conv0 + conv0/relu") == anchor("conv0") == "conv0"


def test_missing_matplotlib_is_one_line(tmp_path):
    """With matplotlib unimportable, hhbc.plot still imports and every entry point says which
    extra to install, in one line."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(HIDE_MATPLOTLIB)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])))
    script = ("import importlib.util, hhbc.plot as p\n"
              "from hhbc.errors import HhbcError\n"
              "assert importlib.util.find_spec('numpy') is not None\n"
              "for call in (lambda: p.check_plot_path('x.png'), lambda: p.plot_profile(None, 'x.png'),\n"
              "             lambda: p.plot_compare([], [], 'x.svg')):\n"
              "    try:\n"
              "        call()\n"
              "    except HhbcError as e:\n"
              "        print(e)\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=120)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stdout.splitlines() == [MISSING] * 3
    assert MISSING == "`--plot` needs matplotlib: pip install 'hhbc[plot]'"
    # and the hook really hides it
    proc = subprocess.run([sys.executable, "-c", "import matplotlib"], capture_output=True, text=True,
                          env=env, timeout=60)
    assert proc.returncode != 0 and "No module named 'matplotlib'" in proc.stderr
