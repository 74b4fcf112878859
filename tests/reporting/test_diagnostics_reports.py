"""`compare` and `plot --turnover` on the search diagnostics CSV of a run (a real run writes it in
tests/studiogan/test_diagnostics_run.py)."""
import csv
import json
from pathlib import Path

from click.testing import CliRunner

from studiogan_slt.cli import main
from studiogan_slt.supermask import diagnostics
from tests.reporting.fakeruns import write_run


def _row(step, network, turnover):
    return {"step": step, "network": network, "turnover": turnover, "most_active": "blocks.0.conv.weight",
            "most_active_turnover": 2 * turnover, "least_active": "linear0.bias", "least_active_turnover": 0.0,
            "score_kept": 0.04, "score_pruned": 0.01, "kept": 3686, "total": 36855}


def _searched_run(save, name, turnovers):
    write_run(save, name, dataset="DIGITS", slt={"k": 0.1, "targets": ["G", "D"]})
    path = Path(save) / "statistics" / name / diagnostics.FILE_NAME
    rows = [_row(step, net, t) for step, t in enumerate(turnovers, 1) for net in ("G", "D")]
    for row in rows:
        diagnostics.append_row(str(path), row)
    return rows


def test_compare_reports_the_last_look_of_each_network(tmp_path):
    rows = _searched_run(tmp_path, "run", [0.3, 0.1, 0.02])
    result = CliRunner().invoke(main, ["compare", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for row in rows[-2:]:
        assert f"   {diagnostics.format_row(row)}" in result.output.splitlines()
    assert "at step 2:" not in result.output
    summary = json.loads(CliRunner().invoke(main, ["compare", str(tmp_path), "--json"]).stdout)[0]
    assert summary["diagnostics"] == {"G": rows[-2], "D": rows[-1]}


def test_plot_turnover_against_step(tmp_path):
    rows = _searched_run(tmp_path, "a", [0.3, 0.1, 0.02])
    write_run(tmp_path, "dense", dataset="DIGITS")
    out, data = tmp_path / "turnover.png", tmp_path / "turnover.csv"
    result = CliRunner().invoke(main, ["plot", str(tmp_path), "--turnover", "-o", str(out), "--csv", str(data)])
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 0 and "skipped 1 run(s) without search diagnostics: dense" in result.output
    written = list(csv.DictReader(open(data)))
    assert [(r["network"], int(r["step"]), float(r["turnover"])) for r in written] == [
        (r["network"], r["step"], r["turnover"]) for r in rows]
    assert {r["run"] for r in written} == {"a"}


def test_plot_turnover_without_any_diagnostics_is_one_line(tmp_path):
    write_run(tmp_path, "dense", dataset="DIGITS")
    result = CliRunner().invoke(main, ["plot", str(tmp_path), "--turnover", "-o", str(tmp_path / "f.png")])
    assert result.exit_code == 2 and "nothing to plot: no run has search diagnostics" in result.output
