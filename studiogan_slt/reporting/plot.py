"""The paper's figure: FID against the kept fraction k (log x), one series per architecture and search mode.

Runs are grouped by generator backbone (MODEL.backbone) and search mode (moment matching or adversarial, from
SLT.train_mode). Tickets (masked runs) are dashed lines with markers, averaged over seeds at each k (error bars =
standard deviation); dense runs (no SLT section, k = 1, or train_mode dense_moment_matching) are solid horizontal
lines in the same colour as the tickets of their family. Untrained controls (g_lr = 0) are drawn apart: a random
mask as crosses, an untrained dense generator as a dotted horizontal line.
"""
import csv
import statistics
from collections import defaultdict
from pathlib import Path

from studiogan_slt import atomic
from studiogan_slt.errors import SLTError

SEARCH_LABEL = {"moment_matching": "moment matching", "adversarial": "adversarial"}
CSV_FIELDS = ("series", "kind", "backbone", "search", "train_mode", "k", "kept", "total", "seed", "total_steps",
              "g_lr", "metric", "value", "best_step", "run", "save_dir")


def _kind(run):
    if run.masked:
        return "random_mask" if run.untrained else "slt"
    return "untrained_dense" if run.untrained else "dense"


def _series(backbone, search, kind):
    label = SEARCH_LABEL[search]
    return {"slt": f"{backbone} SLT ({label} search)", "dense": f"{backbone} dense ({label})",
            "random_mask": f"{backbone} random mask, scores untrained ({label})",
            "untrained_dense": f"{backbone} untrained dense ({label})"}[kind]


def points(runs, metric="FID"):
    """(rows, skipped): one CSV-ready row per run that has `metric`, and the names of runs without it."""
    rows, skipped = [], []
    for run in runs:
        value = run.metric(metric)
        if value is None:
            skipped.append(run.name)
            continue
        backbone, kind = run.cfg("MODEL", "backbone", "?"), _kind(run)
        best = run.best or {}
        rows.append({"series": _series(backbone, run.search, kind), "kind": kind, "backbone": backbone,
                     "search": run.search, "train_mode": run.train_mode, "k": run.k, "kept": run.kept,
                     "total": run.total, "seed": run.cfg("RUN", "seed"),
                     "total_steps": run.cfg("OPTIMIZATION", "total_steps"), "g_lr": run.cfg("OPTIMIZATION", "g_lr"),
                     "metric": metric, "value": float(value), "best_step": best.get("step"), "run": run.name,
                     "save_dir": run.save_dir})
    return rows, skipped


def aggregate(rows):
    """{series: {"kind", "family", "k": [...], "mean": [...], "std": [...], "n": [...]}}, k ascending."""
    grouped = defaultdict(lambda: defaultdict(list))
    meta = {}
    for r in rows:
        grouped[r["series"]][r["k"]].append(r["value"])
        meta[r["series"]] = {"kind": r["kind"], "family": (r["backbone"], r["search"])}
    out = {}
    for series, by_k in grouped.items():
        ks = sorted(by_k)
        values = [by_k[k] for k in ks]
        out[series] = {**meta[series], "k": ks, "mean": [statistics.fmean(v) for v in values],
                       "std": [statistics.stdev(v) if len(v) > 1 else 0.0 for v in values],
                       "n": [len(v) for v in values]}
    return out


def write_csv(rows, path):
    with atomic.open_for_writing(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        writer.writeheader()
        writer.writerows(rows)


def _seeds(s):
    low, high = min(s["n"]), max(s["n"])
    if high == 1:
        return ""
    return f" (mean ± std, {low} seeds)" if low == high else f" (mean ± std, {low}-{high} seeds)"


def make_figure(rows, out_path, *, metric="FID", title=None, log_y=False):
    """Draw the figure to out_path (any format matplotlib knows from the suffix); returns the matplotlib Figure."""
    if not rows:
        raise SLTError(f"nothing to plot: no run has the metric {metric}")
    from matplotlib.figure import Figure
    from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullLocator

    data = aggregate(rows)
    families = sorted({s["family"] for s in data.values()})
    colors = {f: f"C{i % 10}" for i, f in enumerate(families)}
    # The legend goes below the axes (its labels are long and inside it would hide points): grow with it.
    fig = Figure(figsize=(7.5, 4.6 + 0.2 * len(data)), layout="constrained")
    ax = fig.subplots()
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    ks = sorted({k for s in data.values() if s["kind"] in ("slt", "random_mask") for k in s["k"]} | {1.0})
    ax.set_xscale("log")
    ax.set_xlim(min(ks) / 1.5, 1.5)
    order = {"dense": 0, "slt": 1, "untrained_dense": 2, "random_mask": 3}
    handles = []  # in drawing order, so the legend lists each family together (matplotlib puts lines first)
    for name, s in sorted(data.items(), key=lambda item: (item[1]["family"], order[item[1]["kind"]])):
        color, label = colors[s["family"]], name + _seeds(s)
        if s["kind"] in ("dense", "untrained_dense"):
            mean, std = statistics.fmean(s["mean"]), max(s["std"])
            handles.append(ax.axhline(mean, color=color, linestyle="-" if s["kind"] == "dense" else ":",
                                      linewidth=2, label=label))
            if std > 0:
                ax.axhspan(mean - std, mean + std, color=color, alpha=0.12, linewidth=0)
        elif s["kind"] == "slt":
            handles.append(ax.errorbar(s["k"], s["mean"], yerr=s["std"], color=color, linestyle="--", marker="o",
                                       markersize=6, capsize=3, linewidth=1.6, label=label))
        else:
            handles.append(ax.errorbar(s["k"], s["mean"], yerr=s["std"], color=color, linestyle="none", marker="X",
                                       markersize=9, capsize=3, label=label))
    ax.xaxis.set_major_locator(FixedLocator(ks))
    ax.xaxis.set_major_formatter(plain)
    ax.xaxis.set_minor_locator(NullLocator())
    if log_y:
        ax.set_yscale("log")
        # 1-2-5 ticks written as plain numbers: "3 x 10^2" style labels are hard to read off
        ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
    name = metric.replace("_", " ")
    ax.set_xlabel("kept fraction k (log scale; dense = 1)")
    ax.set_ylabel(f"{name} (lower is better)" + (", log scale" if log_y else ""))
    ax.set_title(title or f"{name} against the kept fraction k")
    ax.grid(True, which="major", alpha=0.3)
    fig.legend(handles=handles, loc="outside lower center", ncols=1, fontsize=8, frameon=False)
    with atomic.replacing(out_path) as tmp:
        fig.savefig(tmp, dpi=150, format=Path(out_path).suffix.lstrip(".").lower() or None)
    return fig
