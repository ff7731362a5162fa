"""Pictures of `hhbc bench` results: a per-layer profile and a side-by-side comparison.

    from hhbc.plot import check_plot_path, plot_profile, plot_compare
    plot_profile(bench(...), "profile.png")              # or .svg
    plot_compare([r906, r908], ["c906", "c908"], "c906-vs-c908.svg")

matplotlib is an optional extra (`pip install 'hhbc[plot]'`). It is imported only inside these
functions, and only its object-oriented API is used: a `Figure` printed by the Agg canvas, never
pyplot, so drawing neither opens a window nor changes the caller's matplotlib backend.
`profile_figure` / `compare_figure` return the Figure that the `plot_*` functions save; tests
count its artists.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from hhbc.errors import HhbcError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from hhbc.benchmark import BenchResult, LayerCounts

SUFFIXES = (".png", ".svg")
MISSING = "`--plot` needs matplotlib: pip install 'hhbc[plot]'"
NAME_CHARS = 32          # layer names on the y axis
KERNEL_CHARS = 40        # kernel names written on the bars
SCALAR_COLOR = "#9ecae1"
VECTOR_COLOR = "#2b6cb0"
MACS_COLOR = "#d62728"
INCH_PER_ROW = 0.3       # figure height grows with the number of layers
PNG_DPI = 110
# SVG keeps its text as text (small files, searchable) and carries no date or random ids, so a
# regenerated picture differs from the last one only where a number changed.
# Short font lists: each SVG text element repeats its font-family.
SVG_RC = {"svg.fonttype": "none", "svg.hashsalt": "hhbc",
          "font.sans-serif": ["DejaVu Sans", "Helvetica", "Arial", "sans-serif"],
          "font.monospace": ["DejaVu Sans Mono", "Menlo", "Consolas", "monospace"]}


def _matplotlib():
    """Import matplotlib (Agg canvas) or fail with the one-line message naming the extra."""
    try:
        import matplotlib
        import matplotlib.backends.backend_agg
    except ImportError:
        raise HhbcError(MISSING) from None
    return matplotlib


def check_plot_path(path: str | Path) -> Path:
    """The path as a Path if it ends in .png or .svg and matplotlib can be imported."""
    p = Path(path)
    if p.suffix.lower() not in SUFFIXES:
        raise HhbcError(f"{p}: a plot is written as .png or .svg, not '{p.suffix or '(no suffix)'}'")
    _matplotlib()
    return p


def vector_count(counts: dict[str, int]) -> int:
    """Vector instructions of one layer: arithmetic + load/store + vsetvl (hhbc/profile.py COUNTERS)."""
    return counts["vec_arith"] + counts["vec_mem"] + counts["vsetvl"]


def shorten(text: str, limit: int) -> str:
    """`text` cut in the middle to `limit` characters: layer names differ at both ends
    (framework scope at the start, the op at the end)."""
    if len(text) <= limit:
        return text
    head = (limit - 1) // 2
    return text[:head] + "…" + text[len(text) - (limit - 1 - head):]


def where(r: BenchResult) -> str:
    """`target[@VLEN], scheme`."""
    return r.target + (f"@{r.vlen}" if r.target == "rvv" and r.vlen else "") + f", {r.scheme}"


def _new_figure(rows: int, width: float = 10.0) -> Figure:
    _matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, max(3.2, 2.0 + INCH_PER_ROW * rows)), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _count_axis(ax, label: str) -> None:
    from matplotlib.ticker import EngFormatter

    ax.xaxis.set_major_formatter(EngFormatter(sep=""))
    ax.set_xlabel(label)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)


def layer_label(name: str, limit: int = NAME_CHARS) -> str:
    """A y tick label: a fused layer `scope/a/Conv + scope/b/Relu` as `scope/a/Conv + Relu`,
    leading scope components dropped while too long, then cut in the middle."""
    first, *fused = name.split(" + ")
    suffix = "".join(" + " + part.rstrip("/").rsplit("/", 1)[-1] for part in fused)
    while len(first) + len(suffix) > limit and "/" in first.strip("/"):
        first = first.strip("/").split("/", 1)[1]
    return shorten(first + suffix, limit)


def _layer_axis(ax, names: Sequence[str]) -> None:
    ax.set_yticks(range(len(names)), [layer_label(n) for n in names],
                  fontsize=8 if len(names) <= 40 else 7)
    ax.set_ylim(max(len(names), 1) - 0.5, -0.5)  # first layer on top
    ax.tick_params(axis="y", length=0)


def profile_figure(result: BenchResult) -> Figure:
    """One horizontal bar per layer (first layer on top), its length the layer's instructions,
    stacked scalar then vector (arithmetic + load/store + vsetvl); the kernel's name on or next to
    the bar; MACs per layer as markers in a narrow second panel (its own x axis) sharing the rows."""
    from matplotlib.ticker import MaxNLocator

    layers = result.layers
    fig = _new_figure(len(layers))
    ax, macs_ax = fig.subplots(1, 2, sharey=True, width_ratios=(4, 1))
    y = list(range(len(layers)))
    scalar = [layer.counts["total"] - vector_count(layer.counts) for layer in layers]
    vector = [vector_count(layer.counts) for layer in layers]
    totals = [s + v for s, v in zip(scalar, vector)]
    bars_s = ax.barh(y, scalar, height=0.7, color=SCALAR_COLOR, label="scalar instructions")
    bars_v = ax.barh(y, vector, left=scalar, height=0.7, color=VECTOR_COLOR,
                     label="vector instructions (arith + load/store + vsetvl)")
    top = max(totals, default=0) or 1
    ax.set_xlim(0, top * 1.02)
    _kernel_labels(ax, layers, totals, top)
    _layer_axis(ax, [layer.name for layer in layers])
    _count_axis(ax, "instructions per inference (QEMU count)")

    macs = [layer.macs for layer in layers]
    macs_ax.hlines(y, 0, macs, color=MACS_COLOR, linewidth=0.8, alpha=0.5)
    (marks,) = macs_ax.plot(macs, y, linestyle="none", marker="D", markersize=4, color=MACS_COLOR,
                            label="MACs per layer (right)")
    macs_ax.set_xlim(0, (max(macs, default=0) or 1) * 1.08)
    _count_axis(macs_ax, "MACs per layer")
    macs_ax.xaxis.set_major_locator(MaxNLocator(3))
    macs_ax.xaxis.label.set_color(MACS_COLOR)
    macs_ax.tick_params(axis="y", left=False)

    t = result.totals
    vec = 100.0 * vector_count(t) / max(t["total"], 1)
    fig.suptitle(f"{result.model} on {where(result)}\n{t['total']:,} instructions per inference "
                 f"({vec:.1f}% vector), {result.macs:,} MACs, {len(layers)} layers", fontsize=11)
    fig.legend(handles=[bars_s, bars_v, marks], loc="outside lower center", ncols=3, fontsize=8,
               frameon=False)
    return fig


def _kernel_labels(ax, layers: Sequence[LayerCounts], totals: Sequence[int], top: int) -> None:
    """The kernel name after the end of a short bar, inside the end of a long one."""
    for k, (layer, total) in enumerate(zip(layers, totals)):
        inside = total > 0.55 * top
        text = ax.annotate(shorten(layer.kernel, KERNEL_CHARS), (total, k),
                           xytext=(-3 if inside else 3, 0), textcoords="offset points",
                           ha="right" if inside else "left", va="center", fontsize=7,
                           family="monospace",
                           bbox=dict(boxstyle="square,pad=0.1", facecolor="white", edgecolor="none",
                                     alpha=0.75) if inside else None)
        text.set_gid("kernel")


def anchor(name: str) -> str:
    """The op a layer is named after: hhbc names a fused layer `first + second + ...`, and the
    first op survives whatever is fused into it (a float build fuses Relu into the conv, an int8
    build into the requantization)."""
    return name.split(" + ", 1)[0]


def align_layers(results: Sequence[BenchResult]) -> list[tuple[str, list[LayerCounts | None]]]:
    """Rows of a comparison: (row name, that row's layer in each result or None).

    When every result has the same list of layer names, the rows are the layers by index.
    Otherwise (a float and an int8 build fuse differently, or one adds quantize/dequantize
    layers) layers are matched by `anchor` name, the k-th layer of an anchor with the k-th of
    the same anchor. The rows follow the first result's layers; a layer that no earlier result
    has becomes a row of its own, placed right after the row of the previous layer of its own
    result (so an int8 build's input quantization comes first and its output dequantization
    last), with None for the results that lack it.
    """
    names = [[layer.name for layer in r.layers] for r in results]
    if all(n == names[0] for n in names):
        return [(layer.name, [r.layers[k] for r in results]) for k, layer in enumerate(results[0].layers)]
    keys: list[tuple[str, int]] = []              # row order
    found: dict[tuple[str, int], list[LayerCounts | None]] = {}
    for i, r in enumerate(results):
        seen: dict[str, int] = {}
        at = -1                                   # row of this result's previous layer
        for layer in r.layers:
            key = (anchor(layer.name), seen.get(anchor(layer.name), 0))
            seen[key[0]] = key[1] + 1
            if key in found:
                at = keys.index(key)
            else:
                at += 1
                keys.insert(at, key)
                found[key] = [None] * len(results)
            found[key][i] = layer
    return [(next(layer.name for layer in found[key] if layer), found[key]) for key in keys]


def compare_figure(results: Sequence[BenchResult], labels: Sequence[str]) -> Figure:
    """Grouped horizontal bars: per row (layer) one bar per result, one color per label, length
    the layer's total instructions; where a result lacks the layer its bar has length 0 and says
    so. Rows are matched as `align_layers` says. With two results each row also shows the
    ratio second / first, and the title the ratio of the totals. The legend carries each total."""
    if len(results) != len(labels) or not results:
        raise HhbcError(f"a comparison needs one label per result (got {len(results)} results, "
                        f"{len(labels)} labels)")
    rows = align_layers(results)
    n = len(results)
    fig = _new_figure(len(rows) * (0.6 + 0.25 * n))
    ax = fig.add_subplot()
    height = 0.8 / n
    totals = [[layer.counts["total"] if layer else 0 for layer in row] for _, row in rows]
    top = max((max(t) for t in totals), default=0) or 1
    for i, (r, label) in enumerate(zip(results, labels)):
        ys = [k - 0.4 + height * (i + 0.5) for k in range(len(rows))]
        vec = 100.0 * vector_count(r.totals) / max(r.instructions, 1)
        ax.barh(ys, [t[i] for t in totals], height=height * 0.92, color=f"C{i}",
                label=f"{label}: {r.instructions:,} instructions ({vec:.0f}% vector)")
        for k, (_, row) in enumerate(rows):
            if row[i] is None:
                ax.annotate(f"not in {label}", (0, ys[k]), xytext=(3, 0), textcoords="offset points",
                            va="center", fontsize=6, color="#666666", style="italic")
    _layer_axis(ax, [name for name, _ in rows])
    if n == 2:
        ax.set_xlim(0, top * 1.1)
        for k, t in enumerate(totals):
            if t[0] and t[1]:
                ax.annotate(f"{t[1] / t[0]:.2f}×", (max(t), k), xytext=(3, 0), textcoords="offset points",
                            va="center", fontsize=7).set_gid("ratio")
    else:
        ax.set_xlim(0, top * 1.02)
    _count_axis(ax, "instructions per inference (QEMU count)")
    models = {r.model for r in results}
    title = f"{models.pop()}: per-layer instructions" if len(models) == 1 else "per-layer instructions"
    subtitle = " vs ".join(where(r) if label in where(r).split(", ") else f"{label} ({where(r)})"
                           for r, label in zip(results, labels))
    if n == 2:
        subtitle += f"; total {results[1].instructions / max(results[0].instructions, 1):.2f}×"
    fig.suptitle(f"{title}\n{subtitle}", fontsize=11)
    fig.legend(loc="outside lower center", ncols=min(n, 3), fontsize=8, frameon=False)
    return fig


def save(fig: Figure, path: str | Path) -> Path:
    """Write `fig` as PNG or SVG (by suffix); an unwritable path is an HhbcError naming it."""
    import matplotlib

    p = check_plot_path(path)
    svg = p.suffix.lower() == ".svg"
    try:
        with matplotlib.rc_context(SVG_RC if svg else {}):
            fig.savefig(p, dpi=PNG_DPI, metadata={"Date": None} if svg else None)
    except OSError as exc:
        raise HhbcError(f"cannot write the plot {p}: {exc.strerror or exc}") from None
    return p


def plot_profile(result: BenchResult, path: str | Path) -> Path:
    """Draw `profile_figure(result)` into `path` (.png or .svg); return the path."""
    check_plot_path(path)
    return save(profile_figure(result), path)


def plot_compare(results: Sequence[BenchResult], labels: Sequence[str], path: str | Path) -> Path:
    """Draw `compare_figure(results, labels)` into `path` (.png or .svg); return the path."""
    check_plot_path(path)
    return save(compare_figure(results, labels), path)
