"""benchmarks/gpu_check.sh runs end to end with --cpu (reduced to the DCGAN, one timed step), so that the script a
GPU machine will run is known to work: CUDA tests (skipped here), the table, a ticket that reloads identically, the
selection variants with the same masks, the accelerators' one reading nothing back."""
import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_check.sh"


@pytest.mark.slow
def test_gpu_check_runs_on_cpu(studiogan_root):
    env = dict(os.environ, STUDIOGAN_ROOT=str(studiogan_root), OMP_NUM_THREADS="1")
    done = subprocess.run([str(SCRIPT), "--cpu", "--generators", "DCGAN", "--batch", "2", "--repeats", "1"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| DCGAN |")]
    assert len(rows) == 1 and len(rows[0].split("|")) == 10
    assert "reloaded weights identical to the trained ones" in done.stdout
    selection = {line.split("|")[1].strip(): line.split("|")[2:5] for line in done.stdout.splitlines()
                 if line.startswith(("| kthvalue |", "| topk |", "| sort |", "| topk_mask |"))}
    assert sorted(selection) == ["kthvalue", "sort", "topk", "topk_mask"]
    assert all(exact.strip() == "yes" for _, _, exact in selection.values())
    assert int(selection["topk"][1]) == int(selection["sort"][1]) == 0 < int(selection["kthvalue"][1])


def test_gpu_check_needs_a_studiogan_checkout():
    env = {key: value for key, value in os.environ.items() if key != "STUDIOGAN_ROOT"}
    done = subprocess.run([str(SCRIPT), "--cpu"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "STUDIOGAN_ROOT" in done.stderr
