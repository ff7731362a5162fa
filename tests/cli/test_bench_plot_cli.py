"""`hhbc bench --plot` and `--compare` from the shell: the PNG is written and opens; bad values
are one-line errors before anything is compiled. (tests/test_plot.py checks the bars.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import onnx
import pytest

from conftest import assert_one_line_error

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
from make_kws_dscnn import build_model  # noqa: E402

Image = pytest.importorskip("PIL.Image", reason="Pillow (a matplotlib dependency) opens the PNG")


@pytest.fixture(scope="module")
def kws(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("kws") / "kws.onnx"
    onnx.save(build_model(), path)
    return path


def _png(path: Path) -> tuple[int, int]:
    assert path.is_file() and path.stat().st_size > 10_000, path
    with Image.open(path) as image:
        assert image.format == "PNG"
        image.load()
        colors = image.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colors is None or len(colors) > 3   # not a blank canvas
        return image.size


def test_bench_plot_writes_a_png(cli, kws, tmp_path):
    proc = cli("bench", str(kws), "--target", "c906", "--plot", str(tmp_path / "profile.png"), "-q")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("kws.onnx on c906 (VLEN 128), float32") and "total: " in proc.stdout
    width, height = _png(tmp_path / "profile.png")
    assert 400 <= width <= 6000 and 300 <= height <= 6000


def test_bench_compare_two_targets_prints_both_and_plots(cli, kws, tmp_path):
    proc = cli("bench", str(kws), "--compare", "c906,c908", "--plot", str(tmp_path / "cmp.png"), "-q",
               "--json", str(tmp_path / "cmp.json"))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "kws.onnx on c906 (VLEN 128), float32" in out and "kws.onnx on c908 (VLEN 128), float32" in out
    assert out.count("total: ") == 2
    totals = [int(line.split()[1]) for line in out.splitlines() if line.startswith("total: ")]
    summary = out.strip().splitlines()[-1]
    assert summary == (f"total instructions per inference: c906 {totals[0]}, c908 {totals[1]} "
                       f"({totals[1] / totals[0]:.2f}x)")
    _png(tmp_path / "cmp.png")
    import json
    assert [r["target"] for r in json.loads((tmp_path / "cmp.json").read_text())] == ["c906", "c908"]


@pytest.mark.parametrize("args, needles", [
    (["--compare", "c906,k230"], ["--compare c906,k230", "'k230' is neither a target nor a quantization scheme",
                                  "c908", "int8_asym_w_sym"]),
    (["--compare", "c906,float16"], ["not one of each"]),
    (["--compare", "c906"], ["two different targets or two schemes"]),
    (["--plot", "profile.jpg"], ["profile.jpg", ".png or .svg"]),
    (["--compare", "float32,float16", "--plot", "cmp"], ["cmp", ".png or .svg"]),
])
def test_bad_compare_or_plot_is_one_line_before_compiling(cli, kws, tmp_path, args, needles):
    proc = cli("bench", str(kws), *args, "-o", str(tmp_path / "out"), cwd=tmp_path)
    assert_one_line_error(proc, *needles)
    assert "importing" not in proc.stderr and not (tmp_path / "out").exists()


def test_missing_matplotlib_names_the_extra_before_compiling(kws, tmp_path):
    code = ("import sys; sys.modules['matplotlib'] = None\nfrom hhbc.cli import main\n"
            f"sys.exit(main(['bench', {str(kws)!r}, '--plot', 'p.png', '-o', 'out']))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert_one_line_error(proc, "matplotlib", "hhbc[plot]")
    assert "importing" not in proc.stderr and not (tmp_path / "out").exists()
