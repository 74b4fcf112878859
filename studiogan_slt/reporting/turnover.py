"""`plot --turnover`: the search diagnostics (studiogan_slt.supermask.diagnostics) of each run against the step,
one line per run and masked network. A turnover falling to 0 means the search has settled on its ticket; one that
stays up means the search was still moving when it stopped."""
import csv

from studiogan_slt.supermask.diagnostics import FIELDS
from studiogan_slt.errors import SLTError

CSV_FIELDS = ("run", "save_dir", *FIELDS)


def points(runs):
    """(rows, skipped): every diagnostics row of every run, with its run, and the names of runs without any."""
    rows, skipped = [], []
    for run in runs:
        if not run.diagnostics:
            skipped.append(run.name)
        rows += [{"run": run.name, "save_dir": run.save_dir, **r} for r in run.diagnostics]
    return rows, skipped


def write_csv(rows, path):
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        writer.writeheader()
        writer.writerows(rows)


def make_figure(rows, out_path, *, title=None, log_y=False):
    """Draw turnover against step to out_path; returns the matplotlib Figure."""
    if not rows:
        raise SLTError("nothing to plot: no run has search diagnostics (SAVE/statistics/<run>/slt_diagnostics.csv, "
                       "written by SLT runs at every print_freq)")
    from matplotlib.figure import Figure

    series = {}
    for r in sorted(rows, key=lambda r: r["step"]):
        if r["turnover"] is not None:
            series.setdefault(f"{r['run']} {r['network']}", []).append((r["step"], r["turnover"]))
    fig = Figure(figsize=(7.5, 4.6 + 0.2 * len(series)), layout="constrained")
    ax = fig.subplots()
    for label, pts in series.items():
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", markersize=3, linewidth=1.4, label=label)
    if log_y:
        ax.set_yscale("symlog", linthresh=1e-3)  # a settled search reaches exactly 0
    ax.set_xlabel("step")
    ax.set_ylabel("mask turnover (fraction of kept entries new since the previous print)")
    ax.set_title(title or "Mask turnover against step")
    ax.grid(True, alpha=0.3)
    fig.legend(loc="outside lower center", ncols=1, fontsize=8, frameon=False)
    fig.savefig(out_path, dpi=150)
    return fig
