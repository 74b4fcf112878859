"""The rules the studies' generated pages rest on (benchmarks/): docs/results.md keeps its blocks in one page order
whichever script writes last, and the width diagnosis compares each width's best arms only where the dense lr was
bracketed and only among the variants run at every width compared."""
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
