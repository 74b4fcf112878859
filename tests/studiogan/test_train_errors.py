"""Bad configurations fail with one line and leave no -save folder: before StudioGAN is imported (validated by the
plugin) and after (found by StudioGAN's own parser or its metric setup)."""
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from studiogan_slt.cli import main
from tests.studiogan.train_setup import BACKBONES, _assert_one_line_error, _cfg


BAD_CONFIGS = {  # YAML text (None: no file at all), what the error line must name
    "unknown key": ("SLT: {k: 0.1, bogus: 1}", "SLT.bogus"),
    "bad type": ("SLT: {k: 0.1, mask_bias: 3}", "mask_bias"),
    "k as a string": ("SLT: {k: '0.1'}", "SLT.k"),
    "include not a list": ("SLT: {k: 0.1, include: 5}", "include"),
    "k=0": ("SLT: {k: 0}", "SLT.k"),
    "k=1.5": ("SLT: {k: 1.5}", "SLT.k"),
    "train_mode": ("SLT: {k: 0.1, train_mode: foo}", "SLT.train_mode"),
    "targets": ("SLT: {k: 0.1, targets: [X]}", "SLT.targets"),
    "moments option": ("SLT: {k: 0.1, train_mode: moment_matching, moments: {lr_schedule: step}}",
                       "SLT.moments.lr_schedule", "cosine"),
    "rerandomize host init": ("SLT: {k: 0.1, weight_init: keep, rerandomize: {every: 2, fraction: 0.1}}", "rerandomize needs a seeded"),
    "k_schedule below k": ("SLT: {k: 0.1, k_schedule: {start: 0.05, steps: 10}}", "k_schedule.start must be >= k"),
    "empty section": ("SLT:", "SLT"),
    "invalid YAML": ("SLT: {k: 0.1", "not valid YAML"),
    "no file": (None, "cannot read"),
}


@pytest.mark.parametrize("case", list(BAD_CONFIGS))
def test_bad_config_fails_before_studiogan(tmp_path, case):
    """These fail while the YAML is validated, before StudioGAN is imported: safe in the pytest process."""
    text, *expected = BAD_CONFIGS[case]
    cfg = tmp_path / "bad.yaml"
    if text is not None:
        cfg.write_text(f"DATA: {{name: DIGITS}}\n{text}\n")
    result = CliRunner().invoke(main, ["train", "-cfg", str(cfg), "-data", str(tmp_path), "-save",
                                       str(tmp_path / "save")])
    _assert_one_line_error(result.exit_code, result.stderr, tmp_path / "save", str(cfg), *expected)
    assert "config" not in sys.modules and "loader" not in sys.modules  # StudioGAN was never imported


def test_errors_found_inside_studiogan_are_one_line(studiogan_root, digits, tmp_path):
    """An unknown top-level section is found by StudioGAN's own config parser, and missing Inception weights by
    the metric setup, both after StudioGAN was imported: run the real console script in a fresh process, so
    everything StudioGAN's import prints is on the checked stderr too. A dead proxy makes the weights download
    fail the way it does offline, whatever this machine's network."""
    env = dict(os.environ, STUDIOGAN_ROOT=str(studiogan_root), OMP_NUM_THREADS="1",
               TORCH_HOME=str(tmp_path / "torch_home"), https_proxy="http://127.0.0.1:9",
               HTTPS_PROXY="http://127.0.0.1:9", no_proxy="", NO_PROXY="")
    script = [sys.executable, "-c", "from studiogan_slt.cli import main; main()"]

    unknown = _cfg(tmp_path, "unknown", {"OPTIMIZATION": {"batch_size": 8}, "FOO": {"a": 1}, "SLT": {"k": 0.1}})
    done = subprocess.run([*script, "train", "-cfg", unknown, "-data", str(digits), "-save", str(tmp_path / "s1"),
                           "--num_workers", "1"], env=env, capture_output=True, text=True, timeout=120)
    _assert_one_line_error(done.returncode, done.stderr, tmp_path / "s1", "unknown section 'FOO'")

    fid = _cfg(tmp_path, "fid", BACKBONES["DCGAN"])
    done = subprocess.run([*script, "train", "-cfg", fid, "-data", str(digits), "-save", str(tmp_path / "s2"),
                           "-metrics", "fid", "--num_workers", "1"], env=env, capture_output=True, text=True,
                          timeout=120)
    folder = tmp_path / "torch_home" / "hub" / "checkpoints"
    _assert_one_line_error(done.returncode, done.stderr, tmp_path / "s2", "pt_inception-2015-12-05-6726825d.pth",
                           f"place the file in {folder}/")
