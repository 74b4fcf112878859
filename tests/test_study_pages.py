"""The rules the studies' generated pages rest on (benchmarks/): docs/results.md keeps its blocks in one page order
whichever script writes last; a held-out metric some older points lack is averaged over the seeds that have it,
saying how many; the second evaluation network's block pairs by seed and names a flip between networks. The width
diagnosis's pages: test_width_pages.py."""


import pytest


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


def test_a_held_out_metric_is_averaged_over_the_seeds_that_have_it_and_says_how_many(study_rules):
    rows = [{"kid_valid": None}, {"kid_valid": 0.02}, {"kid_valid": 0.04}]
    assert study_rules.held_out(rows, "kid_valid", ".2f") == "0.03 ± 0.01 (2 of 3 seeds)"
    assert study_rules.held_out(rows[1:], "kid_valid", ".2f") == "0.03 ± 0.01"
    assert study_rules.held_out(rows[:1], "kid_valid", ".2f") == "-"


KID_FLOOR = -0.01  # every metric's real-vs-real floor in these records: a KID ratio is read above it


def _scored(seed, network, fid, kid, kid_valid, last_fid=None, memorisation=1.5):
    def at(value):
        values = {"fid_train": value, "kid": kid, "kid_valid": kid_valid, "memorisation": memorisation}
        return {**values, "draws": [values]}

    floor = {"value": KID_FLOOR, "std": None, "sample": "the valid split", "num_fake": 296, "num_real": 1501}
    return {(seed, network): {"floors": {name: [floor] for name in ("fid_train", "kid", "kid_valid", "memorisation")},
                              "checkpoints": {"last": at(last_fid if last_fid is not None else fid), "best": at(fid)}}}


def test_the_second_network_pairs_by_seed_and_takes_kid_as_a_ratio_of_means_above_the_floor(study_cli):
    import network_agreement

    ticket = {**_scored(1, "lenet", 15.0, 0.004, -0.002), **_scored(2, "lenet", 30.0, 0.012, 0.010),
              **_scored(3, "lenet", 99.0, 1.0, 1.0)}  # seed 3: no dense point yet, not paired
    dense = {**_scored(1, "lenet", 30.0, 0.030, 0.024), **_scored(2, "lenet", 20.0, 0.010, 0.006)}
    found = network_agreement.ratios(ticket, dense, "lenet", "best")
    assert found["fid_train"] == ({1: 0.5, 2: 1.5}, pytest.approx(1.0))
    # the means 0.008 / 0.020 and 0.004 / 0.015, each measured from the floor -0.01
    assert found["kid"][1] == pytest.approx(0.018 / 0.030)
    assert found["kid_valid"][1] == pytest.approx(0.014 / 0.025)
    assert found["kid"][0] == {1: pytest.approx(0.014 / 0.040), 2: pytest.approx(0.022 / 0.020)}
    near_0 = {**_scored(1, "lenet", 30.0, -0.001, -0.001), **_scored(2, "lenet", 20.0, 0.001, -0.001)}
    assert network_agreement.ratios(ticket, near_0, "lenet", "best")["kid"][1] == pytest.approx(0.018 / 0.010)
    at_the_floor = {**_scored(1, "lenet", 30.0, -0.012, -0.001), **_scored(2, "lenet", 20.0, -0.008, -0.001)}
    assert network_agreement.ratios(ticket, at_the_floor, "lenet", "best")["kid"] == ({1: None, 2: 11.0}, None)
    assert network_agreement.ratios(ticket, dense, "strided", "best")["fid_train"] == ({}, None)


def test_issue_15s_gap_reads_kid_above_its_floor_and_is_never_within_without_a_ratio(study_rules):
    def row(fid, kid):
        return {"value": fid, "kid": kid}

    pairs = [(row(22.0, 0.004), row(20.0, 0.001)), (row(21.0, 0.002), row(20.0, -0.003))]
    ratios, kid_ratio, within = study_rules.gap(pairs, -0.02)
    assert ratios == [1.1, 1.05]
    # the means 0.003 and -0.001: a plain ratio would be -3; from the floor -0.02 it is 0.023 / 0.019
    assert kid_ratio == pytest.approx(0.023 / 0.019) and not within
    assert study_rules.gap(pairs, -0.001) == ([1.1, 1.05], None, False)  # dense at the floor: no ratio, no target
    assert study_rules.gap([(row(20.0, 0.0), row(20.0, 0.0))], -0.02)[1:] == (1.0, True)
    assert [study_rules.ratio_text(r) for r in (None, 1.2345)] == ["-", "1.23"]
    floors = {"kid": [{"value": -0.02}]}  # one seed's ratio: a KID above its floor, an FID plain
    assert study_rules.ratio("kid", 0.003, -0.001, floors) == pytest.approx(0.023 / 0.019)
    assert study_rules.ratio("fid_train", 22.0, 20.0, floors) == pytest.approx(1.1)
    assert study_rules.mean_above([], -0.02) is None


def test_a_gap_grows_or_shrinks_only_where_every_step_goes_that_way(study_rules):
    assert study_rules.direction([1.61, 2.38, 2.5]) == "grows"
    assert study_rules.direction([3.51, 3.09, 1.73]) == "shrinks"
    assert study_rules.direction([1.61, 2.38, 1.73]) == "does not move one way"  # its ends alone read "grows"


def test_the_verdict_bands_and_the_sentence_name_a_flip_between_networks(study_cli):
    import network_agreement

    assert [network_agreement.verdict(r) for r in (0.5, 0.95, 1.1, 1.2, -0.1, None)] == [
        "ahead", "within 1.1x", "within 1.1x", "behind", "ahead", None]
    same = network_agreement.agreement({"lenet": {"fid_train": 0.5, "kid": 0.2, "kid_valid": None},
                                     "strided": {"fid_train": 0.7, "kid": 0.3, "kid_valid": 0.9}})
    assert same.startswith("the same under lenet and strided on train-split FID (ahead under lenet, ahead under "
                           "strided); KID") and "NOT" not in same
    assert same.endswith("; without a ratio on held-out KID under lenet (the dense arm's mean is at or below the "
                         "floor)")
    flip = network_agreement.agreement({"lenet": {"fid_train": 0.5, "kid": 1.05, "kid_valid": 2.0},
                                     "strided": {"fid_train": 2.9, "kid": 1.0, "kid_valid": 2.0}})
    assert "NOT the same on train-split FID (ahead under lenet, behind under strided)" in flip
    assert "the same under lenet and strided on KID (within 1.1x under lenet, within 1.1x under strided); held-out" \
        in flip
    # the bound whichever network a reader trusts: the largest ratio, a missing one (None) skipped
    assert network_agreement.worst({"lenet": {"fid_train": 0.5, "kid": 1.05, "kid_valid": None},
                                    "strided": {"fid_train": 2.9, "kid": 1.0, "kid_valid": 2.0}}) == (
        2.9, "fid_train", "strided")
    assert network_agreement.worst({"lenet": {"fid_train": None}}) is None


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


def test_todays_dcgan_verdict_picks_its_dense_arm_by_held_out_kid_among_those_with_the_held_out_metrics(study_cli,
                                                                                                   monkeypatch):
    import results_verdict

    monkeypatch.setattr(results_verdict, "_second_network", lambda *_: ("", []))

    def row(ticket, dense, dense_mean, ratio, held_out, dense_kid=0.03):
        return {"generator": f"DCGAN {ticket} against {dense}", "steps": 300, "seeds": 5, "within": ratio <= 1.1,
                "ratio": ratio, "interval": "-", "dense_mean": dense_mean, "kid_ratio": ratio,
                "pairing": (f"DCGAN, {ticket}", dense), "held_out": held_out,
                "dense_kid": dense_kid if held_out else None, "last_kid": 1.07 if held_out else None,
                "memorisation": (1.75, 1.82) if held_out else None}

    # dense-old has the lower FID but predates the held-out metrics: the verdict is against dense-new
    rows = [row("mm", "dense-old", 40.8, 1.03, False), row("mm", "dense-new", 41.4, 1.25, True)]
    line, = results_verdict._dcgan(rows)
    assert line.startswith("- `mm`, 300 steps, 5 seeds: **behind the best dense arm** (`dense-new`, mean train-split "
                           "FID 41.4, mean held-out KID at the last checkpoint 0.0300, the only dense arm with 5 seeds "
                           "and the held-out metrics (1 dense arm without them left out), 2 dense arms at this budget)")
    assert line.endswith("at the last checkpoint held-out KID above its floor 1.07, memorisation ratio ticket 1.75, "
                         "dense 1.82.")
    # two arms with the held-out metrics: the lower held-out KID is the reference, not the lower train-split FID
    line, = results_verdict._dcgan(rows + [row("mm", "dense-copies", 30.0, 1.5, True, dense_kid=0.04)])
    assert "(`dense-new`, mean train-split FID 41.4, mean held-out KID at the last checkpoint 0.0300, the lowest " \
           "of 2 dense arms with 5 seeds" in line
    # no pairing with the held-out metrics: no verdict, whatever train-split FID says
    line, = results_verdict._dcgan([row("mm-learn_bn", "dense-old", 40.8, 0.85, False)])
    assert "**not a verdict today**: no pairing of it with a dense arm carries the held-out metrics (issue 25); on " \
           "train-split FID and KID alone it reads ahead of the best dense arm (`dense-old`" in line


def test_the_wall_time_table_sums_the_timed_points_and_counts_the_others(study_cli):
    kept = {("w8-800steps", "MM-dense-s0"): ([], {"seconds": {"train": 90.0}}),
            ("w8-800steps", "MM-SLT-k0.1-s0"): ([], {"seconds": {"train": 150.0}}),
            ("w8-800steps", "MM-SLT-k0.1-s1"): ([], None)}  # kept before sweeps timed their steps
    lines = study_cli.wall_time_lines(kept)
    assert "| w8-800steps | MM-SLT-k0.1-s0 | 2.5 |" in lines
    assert lines[-1] == ("In all 4 CPU minutes over 2 points; 1 more have no timing (kept before sweeps timed their "
                         "steps, or still running).")
    timed = {key: value for key, value in kept.items() if value[1]}
    assert study_cli.wall_time_lines(timed)[-1] == "In all 4 CPU minutes over 2 points."


def test_the_memorisation_sentence_names_every_ratio_below_the_flag(study_rules):
    line = study_rules.memorisation_line([("`dense` seed 0", 0.85), ("`mm` seed 0", 1.6)], "best saves")
    assert line == ("Memorisation ratios 0.85-1.60 (2 best saves): below 0.9 for `dense` seed 0 (0.85): closer to "
                    "the training digits than unseen digits are, so their train-split metrics flatter them.")
    assert study_rules.memorisation_line([("a", 1.2), ("b", 1.6)], "points") == (
        "Memorisation ratios 1.20-1.60 (2 points): every one at or above 0.9, none copies the training digits; above "
        "1, each is farther from the training digits than unseen digits are.")
    assert study_rules.memorisation_line([("a", 0.95)], "points").endswith("none copies the training digits.")


def test_the_second_network_report_writes_one_section_per_budget_in_the_order_asked(study_cli, tmp_path):
    import json

    import second_network

    for steps in (300, 1200):
        for variant, point, fid in (("mm", "DCGAN-k0.1", 15.0), ("dense-mm-lr0.0005", "DCGAN-dense", 30.0)):
            folder = tmp_path / "data" / f"{variant}-{steps}steps"
            folder.mkdir(parents=True)
            for network in ("lenet", "strided"):
                record = _scored(0, network, fid * steps / 300, 0.004, 0.002)[0, network]
                (folder / f"{point}-s0-on-{network}.json").write_text(json.dumps(record))
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "results.md").write_text("# results\n")
    second_network.main(["report", "--data", str(tmp_path / "data"), "--docs", str(tmp_path / "docs"),
                         "--steps", "300", "1200"])
    text = (tmp_path / "docs" / "results.md").read_text()
    first, second = (text.index(f"## DCGAN, {steps} steps: mm (k = 0.1) against dense-mm-lr0.0005") for steps in
                     (300, 1200))
    assert first < second < text.index("# results")
    assert "| last | lenet | train-split FID | 60 | 120 | s0: 0.50 | 0.50 | ahead |" in text[second:]
