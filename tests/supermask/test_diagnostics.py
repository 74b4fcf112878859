"""Search diagnostics: the numbers of one look, the monitor over a converted model, the log line and the CSV."""
import math

import pytest
import torch
from torch import nn

from studiogan_slt import convert
from studiogan_slt.supermask import diagnostics
from studiogan_slt.supermask.convert import masked_tensors
from studiogan_slt.supermask.diagnostics import SearchMonitor, mask_diagnostics

from tests.ticket.tiny_generator import tiny_generator


def _masks(*rows):
    return torch.tensor(rows, dtype=torch.bool)


def test_numbers_of_one_look_by_hand():
    before = {"a": _masks(1, 1, 0, 0), "b": _masks(1, 0, 0, 0, 0, 0), "c": _masks(0, 0)}
    after = {"a": _masks(0, 1, 1, 0), "b": _masks(1, 0, 0, 0, 0, 0), "c": _masks(0, 0)}
    scores = {"a": torch.tensor([-1.0, 2.0, -3.0, 0.5]), "b": torch.tensor([4.0, 0, 0, 0, 0, 1.0]),
              "c": torch.tensor([1.0, 1.0])}
    d = mask_diagnostics(before, after, scores)
    # kept now: a {1, 2}, b {0}: 3 entries, of which one (a[2]) was pruned before; c keeps nothing
    assert d["turnover"] == pytest.approx(1 / 3)
    assert (d["most_active"], d["most_active_turnover"]) == ("a", 0.5)
    assert (d["least_active"], d["least_active_turnover"]) == ("b", 0.0)
    assert d["score_kept"] == pytest.approx((2 + 3 + 4) / 3)
    assert d["score_pruned"] == pytest.approx((1 + 0.5 + 1 + 1 + 1) / 9)
    assert (d["kept"], d["total"]) == (3, 12)


def test_nothing_kept_or_nothing_pruned_gives_none_not_nan():
    nothing = mask_diagnostics({"a": _masks(0, 0)}, {"a": _masks(0, 0)}, {"a": torch.ones(2)})
    assert nothing["turnover"] is None and nothing["most_active"] is None and nothing["score_kept"] is None
    everything = mask_diagnostics({"a": _masks(1, 1)}, {"a": _masks(1, 1)}, {"a": torch.ones(2)})
    assert everything["turnover"] == 0 and everything["score_pruned"] is None


@pytest.mark.parametrize("scope", ["layer", "global"])
def test_monitor_follows_the_masks_of_a_converted_model(scope):
    torch.manual_seed(0)
    model = convert(tiny_generator(), 0.2, scope=scope, bias_init="uniform")
    monitor = SearchMonitor()
    monitor.start("G", model)
    monitor.start("plain", nn.Linear(3, 3))  # nothing masked: not monitored
    assert monitor.networks == ["G"]
    still = monitor.look(1, "G", model)
    assert still["turnover"] == 0 and still["step"] == 1 and still["network"] == "G"
    assert still["score_kept"] > still["score_pruned"]  # kept entries are those of largest |score|

    tensors = masked_tensors(model)
    target = max(tensors, key=lambda mt: mt.supermask.scores.numel())
    with torch.no_grad():  # swap the kept and the pruned entries of one tensor only
        s = target.supermask.scores
        kept = target.supermask.mask()
        top, bottom = s.abs().max(), s.abs().min()
        s.copy_(torch.where(kept, torch.full_like(s, bottom / 2), s.abs() + 2 * top))
    moved = monitor.look(2, "G", model)
    n_kept = int(target.supermask.mask().sum())
    assert moved["most_active"] == target.name and moved["most_active_turnover"] == 1.0
    if scope == "layer":
        assert moved["turnover"] == pytest.approx(n_kept / moved["kept"])
        assert moved["least_active_turnover"] == 0.0
    assert monitor.look(3, "G", model)["turnover"] == 0  # compared with the previous look, not the start
    assert moved["kept"] == sum(int(mt.supermask.mask().sum()) for mt in tensors)
    assert moved["total"] == sum(mt.supermask.scores.numel() for mt in tensors)


def test_log_line_names_the_layers():
    row = {"step": 7, "network": "D", "turnover": 0.0123456, "most_active": "conv1.weight",
           "most_active_turnover": 0.5, "least_active": "linear.bias", "least_active_turnover": 0.0,
           "score_kept": 0.25, "score_pruned": None, "kept": 12345, "total": 123456}
    assert diagnostics.format_row(row) == (
        "SLT search of D at step 7: mask turnover 0.01235 (most active conv1.weight 0.5, least active linear.bias "
        "0); mean |score| kept 0.25, pruned - (12,345 of 123,456 kept)")


def test_csv_round_trip_and_a_killed_writer(tmp_path):
    path = tmp_path / "statistics" / "run" / diagnostics.FILE_NAME
    rows = [{"step": s, "network": n, "turnover": 0.1 * s, "most_active": "a.weight", "most_active_turnover": 0.3,
             "least_active": "b.bias", "least_active_turnover": 0.0, "score_kept": 1.5, "score_pruned": None,
             "kept": 10, "total": 100} for s in (1, 2) for n in ("G", "D")]
    for row in rows:
        diagnostics.append_row(str(path), row)
    assert diagnostics.read_rows(path) == rows
    assert path.read_text().count("step,network") == 1
    with open(path, "a") as f:  # a process killed in the middle of a line
        f.write("3,G,0.5,a.we")
    assert diagnostics.read_rows(path) == rows
    assert diagnostics.latest(diagnostics.read_rows(path)) == {"G": rows[2], "D": rows[3]}
    assert all(not (isinstance(v, float) and math.isnan(v)) for r in rows for v in r.values())


def _swap_scores(module, name, i, j):
    """Exchange two scores of the masked tensor `name`: a kept and a pruned entry trade places."""
    (mt,) = [mt for mt in masked_tensors(module) if mt.name == name]
    with torch.no_grad():
        s = mt.supermask.scores
        s[i], s[j] = s[j].clone(), s[i].clone()


def test_layer_monitor_of_a_search_counts_flips_and_the_effective_weight_change():
    torch.manual_seed(0)
    model = convert(nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 2)), 0.5, mask_bias=False)
    (mt,) = [mt for mt in masked_tensors(model) if mt.name == "0.weight"]
    mask = mt.supermask.mask().flatten()
    kept, pruned = int(mask.nonzero()[0]), int((~mask).nonzero()[0])
    before = model[0].weight.detach().clone()
    monitor = diagnostics.LayerMonitor(model)
    _swap_scores(model, "0.weight", (kept // 4, kept % 4), (pruned // 4, pruned % 4))
    monitor.step(model)
    middle = model[0].weight.detach().clone()
    distance = (middle - before).norm()
    _swap_scores(model, "0.weight", (kept // 4, kept % 4), (pruned // 4, pruned % 4))  # and back
    monitor.step(model)
    rows = {r["layer"]: r for r in monitor.window(step=2)}
    assert set(rows) == {"0.weight", "1.weight"}  # weights only: no bias is masked here
    first = rows["0.weight"]
    assert (first["fan_in"], first["numel"], first["steps"]) == (4, 16, 2)
    # two entries flip at each of the two steps, and none is flipped at the end of the window
    assert first["flips_per_100_steps"] == pytest.approx(4 / 16 * 100 / 2)
    assert first["net_flips_per_100_steps"] == 0
    # the same distance out and back, each relative to the weight it left
    assert first["rel_change_per_step"] == pytest.approx(((distance / before.norm() + distance / middle.norm()) / 2)
                                                         .item())
    assert rows["1.weight"]["flips_per_100_steps"] == 0 and rows["1.weight"]["rel_change_per_step"] == 0
    assert monitor.window(step=2)[0]["steps"] == 0  # a window starts the sums again


def test_layer_monitor_of_a_dense_network_follows_its_weights():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 5), nn.Linear(5, 1))
    before = model[0].weight.detach().clone()
    monitor = diagnostics.LayerMonitor(model)
    with torch.no_grad():
        model[0].weight.mul_(1.5)
    monitor.step(model)
    (first, second) = monitor.window(step=1)
    assert first["layer"] == "0.weight" and first["fan_in"] == 3
    assert first["rel_change_per_step"] == pytest.approx(0.5) and second["rel_change_per_step"] == 0
    assert first["flips_per_100_steps"] is None and (model[0].weight / before).allclose(torch.tensor(1.5))
