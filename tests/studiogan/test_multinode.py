"""StudioGAN's multi-node flags (-tn total nodes, -cn current node) with an SLT, simulated as two single-process
"nodes" over gloo on localhost: two separate `studiogan-slt train -DDP` processes sharing MASTER_ADDR/PORT."""
import ast
import glob
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from studiogan_slt.digests import tensor_digest
from tests.studiogan.train_setup import BACKBONES, QUICK, _cfg


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_nodes_end_with_identical_scores_and_masks(studiogan_root, digits, tmp_path):
    cfg = _cfg(tmp_path, "DCGAN", BACKBONES["DCGAN"])
    env = dict(os.environ, STUDIOGAN_ROOT=str(studiogan_root), OMP_NUM_THREADS="1", WANDB_MODE="disabled",
               MASTER_ADDR="127.0.0.1", MASTER_PORT=str(_free_port()))
    nodes = [subprocess.Popen([sys.executable, "-m", "studiogan_slt", "train", "-cfg", cfg, "-DDP", "-tn", "2",
                               "-cn", str(rank), "-data", str(digits), "-save", str(tmp_path / f"node{rank}"),
                               "-metrics", "none", *QUICK], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for rank in (0, 1)]
    outputs = [node.communicate(timeout=600)[0] for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0], "\n".join(o[-3000:] for o in outputs)
    (log,) = glob.glob(str(tmp_path / "node0" / "logs" / "*.log"))
    # rank 0 gathers digests of the scores and of the effective weights (frozen * mask) of every rank
    checks = [line for line in Path(log).read_text().splitlines() if "DDP check at step" in line]
    assert [line.split("DDP check at step ")[1].split(":")[0] for line in checks] == ["1", "2"]
    scores = []
    for line in checks:
        per_rank_scores, per_rank_weights = map(ast.literal_eval, re.findall(r"per rank (\[.*?\])", line))
        assert len(per_rank_scores) == 2 and len(set(per_rank_scores)) == 1 and len(set(per_rank_weights)) == 1, line
        scores.append(per_rank_scores[0])
    assert scores[0] != scores[1], "the scores did not change between the two saves"
    # the digests are of what the run saved: those of the last check are the scores in rank 0's checkpoint
    (ckpt,) = glob.glob(str(tmp_path / "node0" / "checkpoints" / "*" / "model=G-current-weights-step=2.pth"))
    state = torch.load(ckpt, map_location="cpu", weights_only=False)["state_dict"]
    assert tensor_digest((k, v) for k, v in state.items() if k.endswith(".scores")) == scores[1]
