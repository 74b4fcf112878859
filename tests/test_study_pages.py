"""The rules the studies' generated pages rest on (benchmarks/): docs/results.md keeps its blocks in one page order
whichever script writes last, the width diagnosis compares each width's best arms only where the dense lr was
bracketed and only among the variants run at every width compared, and its pairs over seeds keep the dense arm
seed 0 chose and tell a gap that grows with width from one the seeds' spread cannot tell from flat; a held-out
metric some older points lack is averaged over the seeds that have it, saying how many."""
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def study_cli():
    sys.path.insert(0, str(BENCHMARKS))
    import study_cli

    return study_cli


def _names(study_cli, text):
    return list(study_cli.blocks(text))


def test_the_verdict_block_comes_first_whichever_script_writes_last(study_cli):
    text = study_cli.splice("", "reproduction", "## History\n\nold verdict")
    text = study_cli.splice(text, "mm-gap", "## evidence")
    text = study_cli.splice(text, "verdict", "# today")
    assert _names(study_cli, text) == ["verdict", "mm-gap", "reproduction"]
    text = study_cli.splice(text, "reproduction", "## History\n\nrerun")
    assert _names(study_cli, text) == ["verdict", "mm-gap", "reproduction"]
    assert study_cli.blocks(text)["reproduction"] == "## History\n\nrerun"
    assert text.startswith("<!-- begin verdict")
    assert study_cli.splice(text, "verdict", "# today") == text


def test_text_outside_the_blocks_moves_after_them_and_is_kept(study_cli):
    text = study_cli.splice("# an old page\n\nits text\n", "verdict", "# today")
    assert _names(study_cli, text) == ["verdict"]
    assert text.index("# today") < text.index("# an old page") and text.endswith("its text\n")


def _point(width, arm, lr, kid, fid=50.0):
    options = ["--mode", arm.partition(":")[0], "--lr", "0.002", *(["--lr", str(lr)] if lr else [])]
    return {"width": width, "arm": arm, "steps": 100, "options": options,
            "metrics": {"kid_valid": kid, "fid_train": fid, "memorisation": 1.0}}


def test_the_gap_compares_bracketed_widths_among_the_arms_run_at_all_of_them(study_cli):
    import width_verdict

    points = [_point(w, "slt", None, 0.10) for w in (8, 16, 32)]
    points += [_point(w, "dense", None, 0.05) for w in (8, 16, 32)]
    for w in (8, 32):  # the bracket: 3 dense lrs at widths 8 and 32, one at 16
        points += [_point(w, "dense:lr=0.0005", 0.0005, 0.09),
                   _point(w, "dense:lr=0.008", 0.008, 0.04 if w == 8 else 0.2)]
    points.append(_point(8, "slt:score-init=uniform", None, 0.01))  # run at width 8 only: no fair comparison
    rows = width_verdict.gaps(points)
    assert [w for w, *_ in rows] == [8, 32]
    assert {w: (s["arm"], d["arm"]) for w, s, d, *_ in rows} == {8: ("slt", "dense:lr=0.008"), 32: ("slt", "dense")}
    assert rows[0][3] == pytest.approx(0.10 / 0.04)
    unbracketed = [p for p in points if p["width"] != 32]  # fewer than two bracketed widths: every width compared
    assert [w for w, *_ in width_verdict.gaps(unbracketed)] == [8, 16]


def _seeded_point(width, arm, seed, kid, steps=100):
    point = _point(width, arm, None, kid, fid=kid * 1000)
    return {**point, "seed": seed, "steps": steps, "cpu_seconds": 60.0,
            "rows": [{"layer": "blocks.0.conv1.weight", "step": steps, "fan_in": 36 * width}]}


FLOOR = {"value": 0.0, "std": None, "sample": "real"}
FLOORS = {"kid_valid": [FLOOR], "fid_train": [FLOOR, FLOOR], "memorisation": [FLOOR]}


def test_the_seeds_keep_seed_0s_dense_arm_and_weigh_the_width_law_by_their_spread(study_cli):
    import width_seeds

    points = []
    for seed in range(5):
        for w in (8, 16, 32):
            # seed 0 chooses dense:lr=0.008 at width 8 only; on seed 1 it also beats the chosen arm at width 16
            dense = 0.04 if w == 8 else 0.05
            points += [_seeded_point(w, "dense", seed, 0.05),
                       _seeded_point(w, "dense:lr=0.008", seed, 0.04 if w == 8 or (w, seed) == (16, 1) else 0.2),
                       _seeded_point(w, "slt:lr=0.01", seed, dense * 2 * (w / 8) ** 0.5 * (1 + 0.03 * (-1) ** (
                           seed + w // 8))),
                       _seeded_point(w, "slt:score-init=uniform", seed, dense * 2 * (1 + 0.2 * (-1) ** (seed + w // 8)))]
            if seed == 0:
                points.append(_seeded_point(w, "dense:lr=0.0005", seed, 0.09))
    pairs = width_seeds.pairs(points, 100)
    assert pairs["slt:lr=0.01", 16][1][1]["arm"] == "dense"
    assert {seed: pair[1]["arm"] for seed, pair in pairs["slt:lr=0.01", 8].items()} == dict.fromkeys(
        range(5), "dense:lr=0.008")
    text = "\n".join(width_seeds.lines(points, FLOORS))
    grows, flat = (next(line for line in text.splitlines() if line.startswith(f"- `{arm}`") and "held-out" in line)
                   for arm in ("slt:lr=0.01", "slt:score-init=uniform"))
    assert "all seeds: fan_in^+0.5" in grows and "the gap grows with width" in grows and "interval +0.4" in grows
    assert "the gap does not grow or shrink with width" in flat
    assert "One budget (100 steps) only" in text


def test_a_longer_budget_is_read_against_the_same_pair_seed_and_width(study_cli):
    import width_seeds

    points = [_seeded_point(w, arm, 0, kid) for w in (8, 16, 32) for arm, kid in
              (("dense", 0.05), ("dense:lr=0.008", 0.2), ("dense:lr=0.0005", 0.09), ("slt", 0.1))]
    points += [_seeded_point(8, "dense", 0, 0.02, steps=400), _seeded_point(8, "slt", 0, 0.03, steps=400)]
    budget = width_seeds.budget_lines(points)
    assert budget[0].startswith("- Width 8, seed 0, `slt` / `dense`, 100 -> 400 steps: held-out KID 2.00 -> 1.50")
    assert "the ratio shrinks" in budget[0]


def test_the_fan_in_lever_scales_each_layers_score_lr_and_nothing_else(study_cli):
    import search_recipe

    from studiogan_slt.supermask.convert import masked_tensors

    def lrs(width, exp):
        a = search_recipe.parser().parse_args(["--width", str(width), "--lr", "0.03", "--lr-fan-in-exp", str(exp)])
        gen = search_recipe.build_generator(a)
        by_id = {id(p): group["lr"] for group in search_recipe.param_groups(gen, a) for p in group["params"]}
        return {mt.name: by_id[id(mt.supermask.scores)] for mt in masked_tensors(gen)}

    wide, plain = lrs(32, 0.38), lrs(32, 0)
    assert set(plain.values()) == {0.03}
    assert wide["blocks.0.conv1.weight"] == pytest.approx(0.03 * 4 ** 0.38)  # fan_in 1,152 = 4 x 288
    assert wide["blocks.0.conv1.bias"] == wide["blocks.0.conv1.weight"]  # a bias follows its layer's fan_in
    assert wide["linear0.weight"] == pytest.approx(0.03 * (128 / 288) ** 0.38)
    assert lrs(8, 0.38)["blocks.0.conv1.weight"] == pytest.approx(0.03)


def test_a_held_out_metric_is_averaged_over_the_seeds_that_have_it_and_says_how_many(study_cli):
    rows = [{"kid_valid": None}, {"kid_valid": 0.02}, {"kid_valid": 0.04}]
    assert study_cli.held_out(rows, "kid_valid", ".2f") == "0.03 ± 0.01 (2 of 3 seeds)"
    assert study_cli.held_out(rows[1:], "kid_valid", ".2f") == "0.03 ± 0.01"
    assert study_cli.held_out(rows[:1], "kid_valid", ".2f") == "-"
