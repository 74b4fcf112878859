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
    import width_budget
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
    assert "One budget (100 steps) only" in "\n".join(width_budget.lines(points))


def test_the_search_is_also_paired_with_dense_with_batchnorm_frozen_seed_by_seed(study_cli):
    import width_seeds

    points = []
    for seed in range(3):
        for w in (8, 16, 32):
            points += [_seeded_point(w, "dense", seed, 0.05), _seeded_point(w, "slt:score-init=uniform", seed, 0.1),
                       _seeded_point(w, "dense:no-train-bn", seed, 0.08 if seed < 2 else 0.02)]
            points[-1]["options"].append("--no-train-bn")
    points.append({**_seeded_point(8, "slt:train-bn", 1, 0.001), "options": ["--mode", "slt", "--train-bn"]})
    assert {arm for arm, _ in width_seeds.pairs(points, 100)} == {"slt:score-init=uniform"}  # a lever is no ticket
    text = "\n".join(width_seeds.frozen_bn_lines(points))
    row = next(line for line in text.splitlines() if line.startswith("| 8 |"))
    assert row.startswith("| 8 | `slt:score-init=uniform` | `dense:no-train-bn` | 0, 1, 2 | 0.1000 ± 0.0000 | 0.0600 ± 0.0346 | 2.50 ± 2.17 |")
    assert "- `slt:score-init=uniform` / `dense:no-train-bn`, held-out KID: mean ratio 2.50 at width 8" in text
    assert "`dense:no-train-bn` over `dense`, width 8 held-out KID 1.20 ± 0.69 (3 seeds);" in text


def test_a_longer_budget_is_read_against_the_same_pair_seed_and_width(study_cli):
    import width_budget

    points = [_seeded_point(w, arm, 0, kid) for w in (8, 16, 32) for arm, kid in
              (("dense", 0.05), ("dense:lr=0.008", 0.2), ("dense:lr=0.0005", 0.09), ("slt", 0.1))]
    points += [_seeded_point(8, "dense", 0, 0.02, steps=400), _seeded_point(8, "slt", 0, 0.03, steps=400),
               _seeded_point(8, "dense", 0, 0.0195, steps=800), _seeded_point(8, "slt", 0, 0.02, steps=800)]
    budget = width_budget.lines(points, {"fid_train": [{"value": 19.7}]})
    assert [line.split(" | ")[3:7] for line in budget if line.startswith("| 8 |")] == [
        ["100", "0.1000", "0.0500", "2.00"], ["400", "0.0300", "0.0200", "1.50"], ["800", "0.0200", "0.0195", "1.03"]]
    sentence = next(line for line in budget if line.startswith("- Width 8"))
    assert sentence.startswith("- Width 8, seed 0, `slt` / `dense`, 100 -> 400 -> 800 steps: on held-out KID the "
                               "ratio shrinks (2.00 -> 1.50 -> 1.03; steps^-0.30)")
    # _seeded_point's train-split FID is 1000 x its KID: over 400 -> 800 steps the search moves 33%, dense 2.5%
    assert "search 30.0 -> 20.0, dense 20.0 -> 19.5: only dense has flattened" in sentence
    # dense's 50 at 100 steps: 100 x 4^(ln(50/100) / ln(30/100)); its 19.5 at 800 lies below the search's curve
    assert sentence.endswith("The search reaches dense's 50.0 at 100 steps after about 222 steps (2.2x); dense's "
                             "20.0 at 400 steps after about 800 steps (2.0x) (train-split FID, interpolated in log-log "
                             "between budgets). At or below the real-vs-real floor (19.7, the valid split against "
                             "the train split), where a lower FID no longer means a better generator: dense 19.5 at "
                             "800 steps.")
    # 0.8x per 4x steps: steps^-0.16, from 1.28 at 1,600 steps to 1.1 about 2.6x later
    assert width_budget._budget_law([100, 400, 1600], [2.0, 1.6, 1.28]) == (
        "; steps^-0.16, which would reach 1.1x near 4,102 steps (an extrapolation of 3 budgets)")


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


def test_the_batchnorm_lever_trains_the_affine_at_its_own_lr_and_nothing_else(study_cli):
    import search_recipe

    def trained(*options):
        a = search_recipe.parser().parse_args(["--width", "8", "--lr", "0.03", *options])
        gen = search_recipe.build_generator(a)
        bn = {id(p) for p in search_recipe.batch_norm_affine(gen)}
        groups = search_recipe.param_groups(gen, a)
        return ({group["lr"] for group in groups for p in group["params"] if id(p) in bn},
                sum(p.numel() for group in groups for p in group["params"] if id(p) not in bn))

    search, search_bn = trained("--mode", "slt"), trained("--mode", "slt", "--train-bn", "--bn-lr", "0.002")
    assert search[0] == set() and search_bn[0] == {0.002} and search_bn[1] == search[1]
    dense, dense_frozen = trained("--mode", "dense"), trained("--mode", "dense", "--no-train-bn")
    assert dense[0] == {0.03} and dense_frozen[0] == set() and dense_frozen[1] == dense[1]


def _stepped_point(width, arm, kid, step, flips, options=()):
    rows = [{"layer": "blocks.0.conv1.weight", "step": 100, "fan_in": 36 * width, "rel_change_per_step": step,
             "flips_per_100_steps": flips}]
    return {**_point(width, arm, None, kid), "seed": 0, "options": ["--mode", arm.partition(":")[0], "--lr", "0.002", *options],
            "rows": rows, "start": {"blocks.0.conv1.weight": {"score_abs": 0.1, "weight_rms": width ** -0.5}}}


def test_a_batchnorm_lever_is_read_against_its_plain_arm_and_is_never_an_arms_best(study_cli):
    import width_verdict

    points = []
    for w in (8, 16, 32):
        points += [_stepped_point(w, "dense", 0.05, 0.01 * (w / 8) ** 0.5, None),
                   _stepped_point(w, "slt", 0.10, 0.01 * (w / 8) ** -0.5, 0.1 * (w / 8) ** -1),
                   _stepped_point(w, "slt:train-bn,bn-lr=0.002", 0.01, 0.01 * (w / 8) ** -0.5, 0.1 * (w / 8) ** -1,
                                  ["--train-bn", "--bn-lr", "0.002"]),
                   _stepped_point(w, "dense:no-train-bn", 0.04, 0.01 * (w / 8) ** 0.5, None, ["--no-train-bn"])]
    assert {(s["arm"], d["arm"]) for _, s, d, *_ in width_verdict.gaps(points)} == {("slt", "dense")}
    text = "\n".join(width_verdict.lines(points))
    search = next(line for line in text.splitlines() if line.startswith("- `slt:train-bn"))
    assert "it does not change how the step scales with width" in search
    assert "0.0100 / 0.1000 at width 8" in search and "0.20 / 2.00 at width 8" in search
    frozen = next(line for line in text.splitlines() if line.startswith("- `dense:no-train-bn`"))
    assert "The plain search over it, against the plain search over `dense`, held-out KID: 2.50 / 2.00 at width 8" in frozen
    assert "- `dense:no-train-bn` (dense with BatchNorm's affine frozen at init, as" in text
    assert "neither BatchNorm frozen at init is the part that does not scale" in text
    assert "Not measured by these points: budgets" in text
    moved = [{**p, "rows": [{**p["rows"][0], "rel_change_per_step": 0.01}]} if p["arm"].startswith("slt:") else p
             for p in points]
    text = "\n".join(width_verdict.lines(moved))
    assert "it moves that law" in text and "BatchNorm frozen at init is the part" not in text


def test_a_held_out_metric_is_averaged_over_the_seeds_that_have_it_and_says_how_many(study_cli):
    rows = [{"kid_valid": None}, {"kid_valid": 0.02}, {"kid_valid": 0.04}]
    assert study_cli.held_out(rows, "kid_valid", ".2f") == "0.03 ± 0.01 (2 of 3 seeds)"
    assert study_cli.held_out(rows[1:], "kid_valid", ".2f") == "0.03 ± 0.01"
    assert study_cli.held_out(rows[:1], "kid_valid", ".2f") == "-"


def _scored(seed, network, fid, kid, kid_valid, last_fid=None, memorisation=1.5):
    def at(value):
        values = {"fid_train": value, "kid": kid, "kid_valid": kid_valid, "memorisation": memorisation}
        return {**values, "draws": [values]}

    return {(seed, network): {"checkpoints": {"last": at(last_fid if last_fid is not None else fid), "best": at(fid)}}}


def test_the_second_network_pairs_by_seed_and_takes_kid_as_a_ratio_of_means(study_cli):
    import network_agreement

    ticket = {**_scored(1, "lenet", 15.0, 0.004, -0.002), **_scored(2, "lenet", 30.0, 0.012, 0.010),
              **_scored(3, "lenet", 99.0, 1.0, 1.0)}  # seed 3: no dense point yet, not paired
    dense = {**_scored(1, "lenet", 30.0, 0.030, 0.024), **_scored(2, "lenet", 20.0, 0.010, 0.006)}
    found = network_agreement.ratios(ticket, dense, "lenet", "best")
    assert found["fid_train"] == ({1: 0.5, 2: 1.5}, pytest.approx(1.0))
    assert found["kid"][1] == pytest.approx(0.016 / 0.040)
    assert found["kid_valid"][1] == pytest.approx(0.008 / 0.030)
    at_or_below_0 = {**_scored(1, "lenet", 30.0, -0.001, -0.001), **_scored(2, "lenet", 20.0, 0.001, -0.001)}
    assert network_agreement.ratios(ticket, at_or_below_0, "lenet", "best")["kid"][1] is None
    assert network_agreement.ratios(ticket, dense, "strided", "best")["fid_train"] == ({}, None)


def test_the_verdict_bands_and_the_sentence_name_a_flip_between_networks(study_cli):
    import network_agreement

    assert [network_agreement.verdict(r) for r in (0.5, 0.95, 1.1, 1.2, -0.1, None)] == [
        "ahead", "within 1.1x", "within 1.1x", "behind", "ahead", None]
    same = network_agreement.agreement({"lenet": {"fid_train": 0.5, "kid": 0.2, "kid_valid": None},
                                     "strided": {"fid_train": 0.7, "kid": 0.3, "kid_valid": 0.9}})
    assert same.startswith("the same under lenet and strided on train-split FID (ahead under lenet, ahead under "
                           "strided); KID") and "NOT" not in same
    assert same.endswith("; without a ratio on held-out KID under lenet (the dense arm's mean is at or below 0)")
    flip = network_agreement.agreement({"lenet": {"fid_train": 0.5, "kid": 1.05, "kid_valid": 2.0},
                                     "strided": {"fid_train": 2.9, "kid": 1.0, "kid_valid": 2.0}})
    assert "NOT the same on train-split FID (ahead under lenet, behind under strided)" in flip
    assert "the same under lenet and strided on KID (within 1.1x under lenet, within 1.1x under strided); held-out" \
        in flip


def test_the_second_network_block_reports_last_and_best_apart(study_cli):
    import network_agreement

    ticket = {**_scored(1, "lenet", 15.0, 0.004, 0.001, last_fid=40.0), **_scored(1, "strided", 10.0, 0.01, 0.01)}
    dense = {**_scored(1, "lenet", 30.0, 0.030, 0.024, memorisation=0.8),
             **_scored(1, "strided", 20.0, 0.02, 0.02, memorisation=0.95)}
    text = "\n".join(network_agreement.lines("mm", "dense-mm-lr0.0005", 1200, ticket, dense))
    assert "- Memorisation ratio at the last checkpoint under lenet: ticket 1.50; dense 0.80, below 0.9" in text
    assert "- Memorisation ratio at the last checkpoint under strided: ticket 1.50; dense 0.95." in text
    lenet_only = "\n".join(network_agreement.lines("mm", "dense", 1200, ticket, _scored(1, "lenet", 30.0, 0.03, 0.02)))
    assert "- At the best checkpoint the verdict is not checked: paired seeds under lenet only." in lenet_only
    assert "| last | lenet | train-split FID | 40 | 30 | s1: 1.33 | 1.33 | behind |" in text
    assert "| best | lenet | train-split FID | 15 | 30 | s1: 0.50 | 0.50 | ahead |" in text
    assert "- At the last checkpoint the verdict is NOT the same on train-split FID (behind under lenet, ahead " \
           "under strided)" in text
    assert "Seeds: 1 (1 of 5)" in text


def test_each_latent_draw_adds_to_a_checkpoints_mean_and_the_block_says_how_noisy_one_draw_is(study_cli):
    import network_agreement
    import second_network

    def score(fid):
        return {"fid": fid + 5, "fid_train": fid, "kid": 0.01, "kid_std": 0.001, "kid_valid": 0.02,
                "kid_valid_std": 0.002, "memorisation": 1.5, "classes_covered": 10, "network": "lenet-elu-v1",
                "seconds": 5.0, "floors": {name: [floor] for name in ("fid_train", "kid", "kid_valid", "memorisation")}}

    floor = {"value": 0.0, "std": None, "sample": "the valid split", "num_fake": 296, "num_real": 1501}

    record = None
    for draw, (last, best) in enumerate(((20.0, 10.0), (24.0, 12.0))):
        assert second_network._drawn(record) == draw
        record = second_network._add_draw(record, "DCGAN-k0.1-s3", "lenet", draw,
                                          {"last": (1200, 30.0, score(last)), "best": (800, None, score(best))})
    assert second_network._drawn(record) == 2
    assert [d["latent_seed"] for d in record["checkpoints"]["last"]["draws"]] == [3, 1003]
    assert (record["checkpoints"]["last"]["fid_train"], record["checkpoints"]["best"]["fid_train"]) == (22.0, 11.0)
    assert record["checkpoints"]["best"]["step"] == 800 and record["checkpoints"]["last"]["fid"] == 27.0
    dense = {(3, "lenet"): second_network._add_draw(None, "DCGAN-dense-s3", "lenet", 0,
                                                    {"last": (1200, 30.0, score(40.0)),
                                                     "best": (1200, 30.0, score(40.0))})}
    text = "\n".join(network_agreement.lines("mm", "dense", 1200, {(3, "lenet"): record}, dense))
    assert "| last | lenet | train-split FID | 22 | 40 | s3: 0.55 | 0.55 | ahead |" in text
    assert "mean over 1 to 2 draws" in text
    assert "One draw of latents moves a last checkpoint's train-split FID by (std over its draws, mean over " \
           f"checkpoints): ticket under lenet {2 ** 1.5:.2f} (1 checkpoints)." in text


def test_the_pixel_check_is_a_distance_between_value_distributions_paired_by_seed(study_cli):
    import network_agreement
    import numpy as np
    import second_network

    values = np.random.default_rng(0).random(10_000)
    assert second_network.pixel_distance(values, values) == 0.0
    assert second_network.pixel_distance(values * 0.5, values) == pytest.approx(0.25, abs=0.01)  # mean |v - v/2|
    assert second_network.pixel_distance(np.clip(values + 0.1, 0, 1), values) > 0.05

    def check(w1, intensity):
        return {"pixel_w1": w1, "mean_intensity": intensity, "train_mean_intensity": 0.3,
                "floors": {"valid": 0.0015, "train_halves": [0.001, 0.002]}}

    text = "\n".join(network_agreement.pixel_lines({1: check(0.01, 0.31), 2: check(0.02, 0.29), 3: check(1, 1)},
                                                   {1: check(0.02, 0.32), 2: check(0.02, 0.33)}))
    assert "seeds 1, 2)" in text  # seed 3 has no dense point: not paired
    assert "ticket 0.0150 ± 0.0071, dense 0.0200 ± 0.0000" in text and "per seed s1: 0.50, s2: 1.00" in text
    assert "the valid split 0.0015, halves of the train split 0.0015 ± 0.0007" in text
    assert "Mean pixel value: ticket 0.3000, dense 0.3250, the train split 0.3000." in text
    assert network_agreement.pixel_lines({1: check(0.01, 0.3)}, {}) == []
