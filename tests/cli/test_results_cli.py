"""`studiogan-slt baselines`, `compare` and `plot` on fake StudioGAN run folders (tests/reporting/fakeruns.py)."""
import csv
import json
import struct

from click.testing import CliRunner

from studiogan_slt.cli import main
from tests.reporting.fakeruns import write_figure_runs, write_run

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_baselines_filters_tables_and_json():
    result = _invoke("baselines", "--dataset", "cifar-10", "--model", "DCGAN")
    assert result.exit_code == 0, result.output
    tables = [line.split(":")[0][3:] for line in result.output.splitlines() if line.startswith("== ")]
    assert tables == ["studiogan_benchmark", "studiogan_v0.3.0"]
    rows = [line for line in result.output.splitlines() if line.startswith("   CIFAR10")]
    assert len(rows) == 2 and all(line.split()[1] == "DCGAN" for line in rows)
    assert "FID 48.29" in rows[0] and "InceptionV3_tf, ref train, 50,000 real / 50,000 fake, 32 px" in rows[0]

    result = _invoke("baselines", "--table", "paper", "--json")
    assert result.exit_code == 0, result.output
    paper = json.loads(result.output)
    assert len(paper) == 6 and {b["table"] for b in paper} == {"paper"}
    assert sorted({b["k"] for b in paper}) == [0.1, 1.0] and all(b["protocol"]["num_fake"] == 10000 for b in paper)

    biggan = json.loads(_invoke("baselines", "--dataset", "CIFAR10", "--model", "BigGAN", "--json").output)
    assert biggan and all(b["model"].startswith("BigGAN") and b["dataset"] == "CIFAR10" for b in biggan)


def test_baselines_unknown_table_and_no_match():
    result = _invoke("baselines", "--table", "nope")
    assert result.exit_code == 2 and "'nope' is not a table; use one of studiogan_benchmark" in result.output
    result = _invoke("baselines", "--dataset", "MNIST")
    assert result.exit_code == 0 and result.output.startswith("no baseline rows match; datasets with baselines:")
    assert "CIFAR10" in result.output


def _cifar_runs(save):
    """An SLT run under the benchmark's protocol, a dense run under the older 10k protocol, one without metrics."""
    _, kept = write_run(save, "a-slt", slt={"k": 0.1}, evals=[(500, 90.0, 4.0, 0.5, 0.3, 0.4, 0.3),
                                                              (1000, 70.5, 5.5, 0.6, 0.4, 0.5, 0.4)],
                        num_real=50000, num_fake=50000, post_resizer="friendly")
    write_run(save, "b-dense", cfg_file="configs/CIFAR10/DCGAN.yaml", evals=[(1000, 52.0, 6.0, 0.6, 0.5, 0.6, 0.5)],
              ref="test", num_real=10000, num_fake=10000)
    write_run(save, "c-nometrics", slt={"k": 0.3})
    return kept


def _block(output, run):
    """The lines of one run's block of `compare`'s text output."""
    blocks = output.split("\n== ")
    (block,) = [b for b in blocks if b.lstrip("= ").startswith(run + "  ")]
    return block.splitlines()


def test_compare_runs_next_to_baselines_with_protocol_warnings(tmp_path):
    kept = _cifar_runs(tmp_path)
    result = _invoke("compare", tmp_path, "--json")
    assert result.exit_code == 0, result.output
    slt, dense, none = json.loads(result.output)
    assert (slt["run"], slt["masked"], slt["k"], (slt["kept"], slt["total"])) == ("a-slt", True, 0.1, kept)
    assert slt["model"] == "DCGAN" and slt["best_step"] == 1000
    assert slt["metrics"] == {"IS": 5.5, "FID": 70.5, "Prec": 0.6, "Rec": 0.4, "Dns": 0.5, "Cvg": 0.4}
    by_table = {b["table"]: b for b in slt["baselines"]}
    assert set(by_table) == {"studiogan_benchmark", "studiogan_v0.3.0"}
    assert by_table["studiogan_benchmark"]["differences"] == []
    assert by_table["studiogan_benchmark"]["metrics"]["FID"] == 48.29
    assert {"ref train vs test", "num_real 50000 vs 10000", "num_fake 50000 vs 10000"} <= set(
        by_table["studiogan_v0.3.0"]["differences"])

    assert (dense["masked"], dense["k"], dense["kept"], dense["model"]) == (False, 1.0, None, "DCGAN")
    by_table = {b["table"]: b for b in dense["baselines"]}
    assert {"ref test vs train", "num_real 10000 vs 50000", "num_fake 10000 vs 50000",
            "post_resizer legacy vs friendly"} == set(by_table["studiogan_benchmark"]["differences"])
    assert not any(d.startswith(("ref", "num_")) for d in by_table["studiogan_v0.3.0"]["differences"])
    assert none["best_step"] is None and none["metrics"] == {} and none["kept"] is not None

    text = _invoke("compare", tmp_path).output
    slt_lines, dense_lines, none_lines = (_block(text, r) for r in ("a-slt", "b-dense", "c-nometrics"))
    assert f"SLT k=0.1, train_mode adversarial, kept {kept[0]:,} / {kept[1]:,}" in slt_lines[1]
    assert "run:      IS 5.5  FID 70.5" in slt_lines[3]
    bench = next(i for i, line in enumerate(slt_lines) if line.startswith("   studiogan_benchmark: DCGAN"))
    assert "WARNING" not in slt_lines[bench + 1]
    bench = next(i for i, line in enumerate(dense_lines) if line.startswith("   studiogan_benchmark: DCGAN"))
    assert dense_lines[bench + 1].startswith("      WARNING: protocols differ (")
    assert "num_real 10000 vs 50000" in dense_lines[bench + 1] and "dense (k=1)" in dense_lines[1]
    assert "no StudioGAN evaluation logged; finished" in none_lines[2]
    assert none_lines[3].startswith("   run:      -  [no StudioGAN metrics]")


def test_compare_model_override_several_folders_and_no_baseline(tmp_path):
    write_run(tmp_path / "a", "x", slt={"k": 0.1}, evals=[(10, 80.0)])
    write_run(tmp_path / "b", "y", dataset="DIGITS", evals=[(10, 80.0)], extra_json={"fid": 12.5, "hist_tv": 0.1})
    result = _invoke("compare", tmp_path / "a", tmp_path / "b", "--model", "SNGAN", "--json")
    assert result.exit_code == 0, result.output
    x, y = json.loads(result.output)
    assert x["baselines"] and {b["model"] for b in x["baselines"]} == {"SNGAN"}
    assert y["baselines"] == [] and y["metrics"]["digits_FID"] == 12.5
    text = _invoke("compare", tmp_path / "b").output
    assert "no published baseline for dataset DIGITS / model DCGAN" in text and "digits_FID 12.5" in text


def test_compare_errors_are_one_line(tmp_path):
    result = _invoke("compare", tmp_path)
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert result.output.startswith(f"Error: {tmp_path}: no logs/<run>.log files")
    assert _invoke("compare", tmp_path / "missing").exit_code == 2


def _png_size(path):
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24]), len(data)


def test_plot_writes_png_and_csv(tmp_path):
    write_figure_runs(tmp_path / "runs")
    png, table = tmp_path / "fid_vs_k.png", tmp_path / "fid_vs_k.csv"
    result = _invoke("plot", tmp_path / "runs", "-o", png, "--csv", table, "--metric", "digits_FID")
    assert result.exit_code == 0, result.output
    assert "skipped 1 run(s) without digits_FID: no-metric" in result.output
    assert f"wrote {png} (13 runs) and {table}" in result.output
    (width, height), nbytes = _png_size(png)
    assert width == 1125 and height > 700 and nbytes > 20_000  # 7.5 in at 150 dpi, with lines, text and legend

    with open(table) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 13 and {r["metric"] for r in rows} == {"digits_FID"}
    series = {}
    for r in rows:
        series.setdefault(r["series"], []).append(r)
    assert set(series) == {"deep_conv dense (moment matching)", "deep_conv SLT (moment matching search)",
                           "deep_conv random mask, scores untrained (moment matching)",
                           "deep_conv untrained dense (moment matching)", "deep_conv dense (adversarial)",
                           "deep_conv SLT (adversarial search)"}
    slt = series["deep_conv SLT (moment matching search)"]
    assert sorted(float(r["k"]) for r in slt) == [0.05, 0.1, 0.1, 0.1, 0.3, 0.5]
    assert all(r["kept"] and int(r["kept"]) < int(r["total"]) for r in slt)
    dense = series["deep_conv dense (moment matching)"]
    assert {r["k"] for r in dense} == {"1.0"} and sorted(r["seed"] for r in dense) == ["0", "1", "2"]
    assert all(r["kept"] == "" for r in dense)
    assert [r["kind"] for r in series["deep_conv random mask, scores untrained (moment matching)"]] == ["random_mask"]


def test_plot_uses_studiogan_best_fid_and_reports_errors(tmp_path):
    write_run(tmp_path, "a", slt={"k": 0.1}, evals=[(10, 80.0), (20, 60.0), (30, 65.0)])
    write_run(tmp_path, "b", evals=[(10, 40.0)])
    table = tmp_path / "f.csv"
    result = _invoke("plot", tmp_path, "-o", tmp_path / "f.svg", "--csv", table)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "f.svg").read_text().lstrip().startswith("<?xml")
    with open(table) as f:
        rows = {r["run"]: r for r in csv.DictReader(f)}
    assert (rows["a"]["value"], rows["a"]["best_step"], rows["b"]["value"]) == ("60.0", "20", "40.0")

    result = _invoke("plot", tmp_path, "-o", tmp_path / "g.png", "--metric", "digits_FID")
    assert result.exit_code == 2 and "Error: nothing to plot: no run has the metric digits_FID" in result.output
    assert not (tmp_path / "g.png").exists()
    result = _invoke("plot", tmp_path, "-o", tmp_path / "missing" / "g.png")
    assert result.exit_code == 2 and "does not exist" in result.output
