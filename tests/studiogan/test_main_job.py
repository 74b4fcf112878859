"""The main job (`studiogan-slt train -cfg configs/digits/MM-SLT.yaml -save DIR`) end to end at a reduced budget:
no -data (the digits data set is made in the user cache on first use), the built-in extractor name, the end-of-train
summary, the exported ticket and the sample grid; and, in the slow tier, the searched ticket's digits FID clearly
below that of the random-mask control (the same run with lr 0: the mask the search started from, BatchNorm statistics
updated).

The budget is cut (8-channel generator, STEPS steps), so the FIDs are far from docs/main-job.md's; what
is asserted is the gap, not a value. The cache's two digits networks are the session's (tests/conftest.py), trained
as on first use. About 35 s of CPU time a run.
"""
import struct
from pathlib import Path

import pytest
import yaml

from studiogan_slt.ticket.save_load import read_ticket
from tests.studiogan.driving import cache_of_its_own, digits_fid, run_jobs

MAIN = Path(__file__).resolve().parents[2] / "configs" / "digits" / "MM-SLT.yaml"
STEPS = 16
# "Clearly better": with the networks trained as on first use, the control scored 837-840 and the search 283-378 over
# seeds 0-3 (ratios 2.56, 2.21, 2.97, 2.70; the test's seed 0: 328 against 840). 1.75 leaves the lowest of the
# four 1.26x of headroom, and is far from 1.0, the ratio of a search that does not move the mask.
MARGIN = 1.75
# StudioGAN draws a random seed when none is given, and the searched FID moves with the seed (above): seeded, so
# that a failure repeats
SEED = 0
GRID_SIDE = 8 * (32 + 2) + 2  # 64 images of 32 px, 8 a row, 2 px of padding


def _tiny(path, g_lr=None):
    data = yaml.safe_load(MAIN.read_text())
    data["MODEL"].update(g_conv_dim=8, d_conv_dim=8)
    data["OPTIMIZATION"]["total_steps"] = STEPS
    if g_lr is not None:
        data["OPTIMIZATION"]["g_lr"] = g_lr
    path.write_text(yaml.safe_dump(data))
    return path


def _png_size(path):
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def _run(studiogan_root, work, name, cfg):
    """The main job's command, saving into work/name, with the user cache under `work`; its CLI result."""
    job = {"name": name, "kind": "cli", "args": ["train", "-cfg", str(cfg), "-save", str(work / name),
                                                 "--save_freq", str(STEPS), "--print_freq", str(STEPS // 2),
                                                 "--seed", str(SEED)]}
    driver = work / f"driver-{name}"
    driver.mkdir()
    return run_jobs(driver, [job], studiogan_root, must_succeed=[name],
                    env={"XDG_CACHE_HOME": str(work / "cache")})[name]


@pytest.fixture(scope="module")
def work(tmp_path_factory, digits_networks):
    work = tmp_path_factory.mktemp("main_job")
    cache_of_its_own(work, digits_networks)  # the data set is left for the first run to make
    return work


@pytest.fixture(scope="module")
def search(studiogan_root, work):
    return _run(studiogan_root, work, "search", _tiny(work / "search.yaml"))


@pytest.fixture(scope="module")
def control(studiogan_root, work, search):
    """The search's run with lr 0, after it: the data set is already made."""
    return _run(studiogan_root, work, "control", _tiny(work / "control.yaml", g_lr=0.0))


def test_the_main_job_makes_its_data_and_ends_with_a_summary_a_ticket_and_a_grid(work, search):
    out = search
    assert out["exit_code"] == 0, out["stdout"][-3000:] + out["stderr"][-3000:]
    data = next((work / "cache" / "studiogan-slt").glob("digits-*"))
    assert "writing the built-in digits data set" in out["stdout"] and f"-data {data}" in out["stdout"]
    assert {p.name for p in data.iterdir()} == {"train", "valid"}
    (ticket,) = (work / "search" / "tickets").glob("*.slt")
    (grid,) = (work / "search" / "figures").glob("*/ticket_samples.png")
    summary = out["stdout"]
    # StudioGAN makes total_steps + 1 updates, and a finished run saves its last one
    assert f"checkpoint: {work / 'search' / 'checkpoints'}" in summary and f"(step {STEPS + 1})" in summary
    assert "kept parameters of G" in summary and "(10.0" in summary and "k = 0.1)" in summary
    assert f"ticket: {ticket}" in summary and f"samples of the ticket: {grid}" in summary
    assert f"studiogan-slt sample {ticket}" in summary
    (log,) = (work / "search" / "logs").glob("*.log")
    assert "steps/s, ETA" in log.read_text()
    assert _png_size(grid) == (GRID_SIDE, GRID_SIDE)
    assert read_ticket(ticket).header["sampler"]["z_dim"] == 128


@pytest.mark.slow
def test_a_second_run_finds_the_data_set_the_first_made(control):
    assert "writing the built-in digits data set" not in control["stdout"]


@pytest.mark.slow
def test_the_searched_ticket_is_clearly_better_than_the_random_mask_control(work, control):
    searched, random_mask = digits_fid(work / "search"), digits_fid(work / "control")
    # At the full budget the gap is about 10x (docs/main-job.md).
    assert searched < random_mask / MARGIN, (searched, random_mask)
