"""The width diagnosis's pages (benchmarks/width_*.py, search_recipe.py): each width's best arms are compared only
where the dense lr was bracketed and only among the variants run at every width compared; the pairs over seeds keep
the dense arm seed 0 chose and tell a gap that grows with width from one the seeds' spread cannot tell from flat; a
BatchNorm lever is read against its plain arm and is never a ticket or an arm's best; the budget curves read each
pair across budgets; every held-out KID ratio is taken above the real-vs-real floor."""
import pytest

FLOOR = {"value": 0.0, "std": None, "sample": "real"}
KID_FLOOR = -0.02  # the held-out KID's real-vs-real floor is about this: an unbiased KID goes below 0
FLOORS = {"kid_valid": [{"value": KID_FLOOR, "std": 0.004, "sample": "real"}], "fid_train": [FLOOR, FLOOR],
          "memorisation": [FLOOR]}


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
    rows = width_verdict.gaps(points, FLOORS)
    assert [w for w, *_ in rows] == [8, 32]
    assert {w: (s["arm"], d["arm"]) for w, s, d, *_ in rows} == {8: ("slt", "dense:lr=0.008"), 32: ("slt", "dense")}
    assert rows[0][3] == pytest.approx(2.0)  # (0.10 + 0.02) / (0.04 + 0.02) above the floor, not 0.10 / 0.04
    unbracketed = [p for p in points if p["width"] != 32]  # fewer than two bracketed widths: every width compared
    assert [w for w, *_ in width_verdict.best_pairs(unbracketed)] == [8, 16]


def _seeded_point(width, arm, seed, kid, steps=100):
    point = _point(width, arm, None, kid, fid=kid * 1000)
    return {**point, "seed": seed, "steps": steps, "cpu_seconds": 60.0,
            "rows": [{"layer": "blocks.0.conv1.weight", "step": steps, "fan_in": 36 * width}]}


def test_the_seeds_keep_seed_0s_dense_arm_and_weigh_the_width_law_by_their_spread(study_cli):
    import width_budget
    import width_seeds

    def search(dense, ratio):  # the search's KID whose ratio to `dense` above the floor is `ratio`
        return KID_FLOOR + (dense - KID_FLOOR) * ratio

    points = []
    for seed in range(5):
        for w in (8, 16, 32):
            # seed 0 chooses dense:lr=0.008 at width 8 only; on seed 1 it also beats the chosen arm at width 16
            dense = 0.04 if w == 8 else 0.05
            points += [_seeded_point(w, "dense", seed, 0.05),
                       _seeded_point(w, "dense:lr=0.008", seed, 0.04 if w == 8 or (w, seed) == (16, 1) else 0.2),
                       _seeded_point(w, "slt:lr=0.01", seed, search(dense, 2 * (w / 8) ** 0.5 * (1 + 0.03 * (-1) ** (
                           seed + w // 8)))),
                       _seeded_point(w, "slt:score-init=uniform", seed, search(dense, 2 * (1 + 0.2 * (-1) ** (
                           seed + w // 8))))]
            if seed == 0:
                points.append(_seeded_point(w, "dense:lr=0.0005", seed, 0.09))
    pairs = width_seeds.pairs(points, 100)
    assert pairs["slt:lr=0.01", 16][1][1]["arm"] == "dense"
    assert {seed: pair[1]["arm"] for seed, pair in pairs["slt:lr=0.01", 8].items()} == dict.fromkeys(
        range(5), "dense:lr=0.008")
    text = "\n".join(width_seeds.lines(points, FLOORS))
    grows, flat = (next(line for line in text.splitlines() if line.startswith(f"- `{arm}`") and "held-out" in line)
                   for arm in ("slt:lr=0.01", "slt:score-init=uniform"))
    # fan_in doubles with each width and the ratio above the floor grows by sqrt(2), with a 3% swing at width 8
    # against 16 and 32 that tilts a seed's slope by log(1.03 / 0.97) / log(4) = 0.043, up on seeds 0, 2, 4: the mean
    # is 0.5 + 0.043 / 5 = 0.51, the interval 0.51 ± 2.78 x 0.047 / sqrt(5). A plain ratio: +0.54 (+0.47 to +0.61)
    assert "all seeds: fan_in^+0.51 (95% interval +0.45 to +0.57 over 5 seeds)" in grows
    assert "the gap grows with width" in grows
    assert "the gap does not grow or shrink with width" in flat
    assert "One budget (100 steps) only" in "\n".join(width_budget.lines(points, FLOORS))


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
    text = "\n".join(width_seeds.frozen_bn_lines(points, FLOORS))
    row = next(line for line in text.splitlines() if line.startswith("| 8 |"))
    # above the floor of -0.02: 0.12 / 0.10 on seeds 0 and 1, 0.12 / 0.04 on seed 2; 1.8 ± sqrt(1.08)
    assert row.startswith("| 8 | `slt:score-init=uniform` | `dense:no-train-bn` | 0, 1, 2 | 0.1000 ± 0.0000 | "
                          "0.0600 ± 0.0346 | 1.80 ± 1.04 |")
    assert "- `slt:score-init=uniform` / `dense:no-train-bn`, held-out KID: mean ratio 1.80 at width 8" in text
    # 0.10 / 0.07 twice and 0.04 / 0.07: 8 / 7 ± sqrt(0.245)
    assert "`dense:no-train-bn` over `dense`, width 8 held-out KID 1.14 ± 0.49 (3 seeds);" in text


def test_a_longer_budget_is_read_against_the_same_pair_seed_and_width(study_cli):
    import width_budget

    points = [_seeded_point(w, arm, 0, kid) for w in (8, 16, 32) for arm, kid in
              (("dense", 0.05), ("dense:lr=0.008", 0.2), ("dense:lr=0.0005", 0.09), ("slt", 0.1))]
    points += [_seeded_point(8, "dense", 0, 0.02, steps=400), _seeded_point(8, "slt", 0, 0.03, steps=400),
               _seeded_point(8, "dense", 0, 0.0195, steps=800), _seeded_point(8, "slt", 0, 0.02, steps=800)]
    budget = width_budget.lines(points, {"fid_train": [{"value": 19.7}], "kid_valid": [{"value": KID_FLOOR}]})
    # above the floor of -0.02: 0.12 / 0.07, 0.05 / 0.04, 0.04 / 0.0395
    assert [line.split(" | ")[3:7] for line in budget if line.startswith("| 8 |")] == [
        ["100", "0.1000", "0.0500", "1.71"], ["400", "0.0300", "0.0200", "1.25"], ["800", "0.0200", "0.0195", "1.01"]]
    sentence = next(line for line in budget if line.startswith("- Width 8"))
    # the least-squares slope of (0.539, 0.223, 0.013) = log ratio on (4.61, 5.99, 6.68) = log steps: -0.56 / 2.24
    assert sentence.startswith("- Width 8, seed 0, `slt` / `dense`, 100 -> 400 -> 800 steps: on held-out KID the "
                               "ratio shrinks (1.71 -> 1.25 -> 1.01; steps^-0.25)")
    # _seeded_point's train-split FID is 1000 x its KID: over 400 -> 800 steps the search moves 33%, dense 2.5%
    assert "search 30.0 -> 20.0, dense 20.0 -> 19.5: only dense has flattened" in sentence
    # dense's 50 at 100 steps: 100 x 4^(ln(50/100) / ln(30/100)); its 19.5 at 800 lies below the search's curve
    assert sentence.endswith("The search reaches dense's 50.0 at 100 steps after about 222 steps (2.2x); dense's "
                             "20.0 at 400 steps after about 800 steps (2.0x) (train-split FID, interpolated in log-log "
                             "between budgets). At or below the real-vs-real floor (19.7, the valid split against "
                             "the train split), where a lower FID no longer means a better generator: dense 19.5 at "
                             "800 steps.")
    # 0.8x per 4x steps: steps^-0.16, from 1.28 at 1,600 steps to 1.1 about 2.6x later
    assert width_budget.budget_law([100, 400, 1600], [2.0, 1.6, 1.28]) == (
        "steps^-0.16, which would reach 1.1x near 4,102 steps (an extrapolation of 3 budgets)")
    # up then down: a line through three single runs would extrapolate their noise (2.50, 3.33, 2.24 fit steps^-0.08
    # and "reach" 1.1x after 28 million steps)
    assert width_budget.budget_law([800, 1600, 3200], [2.50, 3.33, 2.24]) == (
        "not one way, so no power law")


def test_a_held_out_kid_ratio_is_taken_above_the_floor_where_dense_sits_near_0(study_cli):
    import width_budget
    import width_seeds
    import width_verdict

    def point(width, arm, seed, kid, steps=100):
        return {**_seeded_point(width, arm, seed, kid, steps), "metrics": {"kid_valid": kid, "fid_train": 50.0,
                                                                           "memorisation": 1.0}}

    # dense near 0, between the floor and 0, below the floor: plain ratios of 20.00, -3.00 and -1.20
    dense = {8: 0.001, 16: -0.01, 32: -0.025}
    search = {8: 0.02, 16: 0.03, 32: 0.03}
    points = [point(w, arm, seed, kid[w]) for seed in (0, 1) for w in dense
              for arm, kid in (("dense", dense), ("slt:lr=0.01", search))]
    points += [point(8, "dense", 0, 0.0, 400), point(8, "slt:lr=0.01", 0, 0.01, 400)]
    # above the floor of -0.02: 0.04 / 0.021 = 1.90, 0.05 / 0.01 = 5.00, none where dense is below it
    rows = [line.split(" | ")[4:8] for line in width_seeds.lines(points, FLOORS) if line.startswith("| ")][1:]
    assert rows == [["0.0200 ± 0.0000", "0.0010 ± 0.0000", "1.90 ± 0.00", "1.90"],
                    ["0.0300 ± 0.0000", "-0.0100 ± 0.0000", "5.00 ± 0.00", "5.00"],
                    ["0.0300 ± 0.0000", "-0.0250 ± 0.0000", "-", "-"]]
    verdict = [line.rsplit(" | ", 1)[1] for line in width_verdict.verdict_lines(width_seeds.chosen(points), FLOORS)
               if line.startswith("| ")][1:]
    assert verdict == ["1.90 |", "5.00 |", "- |"]
    # at 400 steps 0.03 / 0.02 above the floor; a plain ratio over a dense KID of 0 has none
    budget = [line.split(" | ")[3:7] for line in width_budget.lines(points, FLOORS) if line.startswith("| 8 |")]
    assert budget == [["100", "0.0200", "0.0010", "1.90"], ["400", "0.0100", "0.0000", "1.50"]]


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
    return {**_point(width, arm, None, kid), "seed": 0, "rows": rows,
            "options": ["--mode", arm.partition(":")[0], "--lr", "0.002", *options],
            "start": {"blocks.0.conv1.weight": {"score_abs": 0.1, "weight_rms": width ** -0.5}}}


def test_a_batchnorm_lever_is_read_against_its_plain_arm_and_is_never_an_arms_best(study_cli):
    import width_verdict

    points = []
    for w in (8, 16, 32):
        points += [_stepped_point(w, "dense", 0.05, 0.01 * (w / 8) ** 0.5, None),
                   _stepped_point(w, "slt", 0.10, 0.01 * (w / 8) ** -0.5, 0.1 * (w / 8) ** -1),
                   _stepped_point(w, "slt:train-bn,bn-lr=0.002", 0.01, 0.01 * (w / 8) ** -0.5, 0.1 * (w / 8) ** -1,
                                  ["--train-bn", "--bn-lr", "0.002"]),
                   _stepped_point(w, "dense:no-train-bn", 0.04, 0.01 * (w / 8) ** 0.5, None, ["--no-train-bn"])]
    assert {(s["arm"], d["arm"]) for _, s, d in width_verdict.best_pairs(points)} == {("slt", "dense")}
    text = "\n".join(width_verdict.lines(points, FLOORS))
    search = next(line for line in text.splitlines() if line.startswith("- `slt:train-bn"))
    assert "it does not change how the step scales with width" in search
    # above the floor of -0.02: the lever search over dense 0.03 / 0.07, the plain search over dense 0.12 / 0.07
    assert "0.0100 / 0.1000 at width 8" in search and "0.43 / 1.71 at width 8" in search
    frozen = next(line for line in text.splitlines() if line.startswith("- `dense:no-train-bn`"))
    # the plain search over frozen dense: 0.12 / 0.06
    assert ("The plain search over it, against the plain search over `dense`, held-out KID: 2.00 / 1.71 at width 8"
            in frozen)
    assert "- `dense:no-train-bn` (dense with BatchNorm's affine frozen at init, as" in text
    assert "neither BatchNorm frozen at init is the part that does not scale" in text
    assert "Not measured by these points: budgets" in text
    moved = [{**p, "rows": [{**p["rows"][0], "rel_change_per_step": 0.01}]} if p["arm"].startswith("slt:") else p
             for p in points]
    text = "\n".join(width_verdict.lines(moved, FLOORS))
    assert "it moves that law" in text and "BatchNorm frozen at init is the part" not in text
