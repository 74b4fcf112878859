"""What the FID-vs-k figure draws: read back from the matplotlib Figure that make_figure returns."""
import statistics

import pytest

from studiogan_slt.errors import SLTError
from studiogan_slt.reporting import plot
from studiogan_slt.reporting.runlog import find_runs
from tests.reporting.fakeruns import write_figure_runs


@pytest.fixture(scope="module")
def figure(tmp_path_factory):
    save = tmp_path_factory.mktemp("runs")
    write_figure_runs(save)
    rows, skipped = plot.points(find_runs(save), "digits_FID")
    assert skipped == ["no-metric"]
    return plot.make_figure(rows, save / "f.png", metric="digits_FID", log_y=True)


def _lines(ax):
    """{legend label: the Line2D that carries it}, errorbar series included (their data line)."""
    out = {line.get_label(): line for line in ax.get_lines() if not line.get_label().startswith("_")}
    out.update({c.get_label(): c.lines[0] for c in ax.containers})
    return out


def test_axes_scales_and_labels(figure):
    (ax,) = figure.axes
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_xlabel() == "kept fraction k (log scale; dense = 1)"
    assert ax.get_ylabel() == "digits FID (lower is better), log scale"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.05", "0.1", "0.3", "0.5", "1"]
    (legend,) = figure.legends
    assert [t.get_text() for t in legend.get_texts()] == [
        "deep_conv dense (adversarial)", "deep_conv SLT (adversarial search)",
        "deep_conv dense (moment matching) (mean ± std, 3 seeds)",
        "deep_conv SLT (moment matching search) (mean ± std, 1-3 seeds)",
        "deep_conv untrained dense (moment matching)",
        "deep_conv random mask, scores untrained (moment matching)"]


def test_dense_runs_are_solid_horizontal_lines_and_tickets_dashed(figure):
    lines = _lines(figure.axes[0])
    dense = lines["deep_conv dense (moment matching) (mean ± std, 3 seeds)"]
    assert dense.get_linestyle() == "-" and set(dense.get_ydata()) == {21.0}  # mean over the seeds
    assert list(dense.get_xdata()) == [0, 1]  # axhline: axes coordinates, the whole width
    assert lines["deep_conv dense (adversarial)"].get_linestyle() == "-"
    assert lines["deep_conv untrained dense (moment matching)"].get_linestyle() == ":"
    slt = lines["deep_conv SLT (moment matching search) (mean ± std, 1-3 seeds)"]
    assert slt.get_linestyle() == "--" and slt.get_marker() == "o"
    assert list(slt.get_xdata()) == [0.05, 0.1, 0.3, 0.5]
    assert list(slt.get_ydata()) == [40.0, statistics.fmean((21.5, 23.5, 25.0)), 23.0, 24.0]
    control = lines["deep_conv random mask, scores untrained (moment matching)"]
    assert control.get_linestyle() == "None" and control.get_marker() == "X" and list(control.get_ydata()) == [150.0]
    # one colour per backbone and search mode: a family's dense line and tickets share it
    assert slt.get_color() == dense.get_color() != lines["deep_conv dense (adversarial)"].get_color()


def test_nothing_to_plot_is_a_user_error(tmp_path):
    with pytest.raises(SLTError, match="nothing to plot: no run has the metric FID"):
        plot.make_figure([], tmp_path / "f.png")
