"""Values that used to be accepted and broke the run later (issue 28, 4): each is refused when the config is read,
with one line and exit 2, before -save exists. Non-finite numbers (YAML's .nan and .inf), integers past what a
64-bit reader holds, a stats batch no memory holds, an extractor list given as a string, and a YAML alias bomb,
in the SLT section and in a StudioGAN value."""
import pytest
import yaml

from tests.studiogan.test_user_errors import CFG, QUICK, _assert_one_line_error, _cfg, _cli

MIXED = {"k": 0.3, "moments": {"weight": 1.0}}
CASES = {
    "weight nan": ({**MIXED, "moments": {"weight": float("nan")}}, "SLT.moments.weight: nan is not allowed"),
    "weight inf": ({**MIXED, "moments": {"weight": float("inf")}}, "SLT.moments.weight: inf is not allowed"),
    "score_bound nan": ({"k": 0.3, "score_bound": float("nan")}, "score_bound must be a positive number"),
    "score_bound inf": ({"k": 0.3, "score_bound": float("inf")}, "score_bound must be a positive number"),
    "ama_lr nan": ({**MIXED, "moments": {"weight": 1.0, "ama_lr": float("nan")}}, "SLT.moments.ama_lr: nan"),
    "seed 2^64": ({"k": 0.3, "seed": 2 ** 64}, "seed must be an integer in [0, 9223372036854775807]"),
    "seed 2^70": ({"k": 0.3, "seed": 2 ** 70}, "seed must be an integer in [0, 9223372036854775807]"),
    "k_schedule steps 10^30": ({"k": 0.3, "k_schedule": {"start": 0.5, "steps": 10 ** 30}},
                               "k_schedule.steps must be an integer in [1, 9223372036854775807]"),
    "stats_batch_size 10^12": ({**MIXED, "moments": {"weight": 1.0, "stats_batch_size": 10 ** 12}},
                               "SLT.moments.stats_batch_size: 1000000000000 is not allowed"),
    "extractors a string": ({**MIXED, "moments": {"weight": 1.0, "extractors": "vgg19_bn"}},
                            "SLT.moments.extractors: 'vgg19_bn' is not allowed"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_value_that_breaks_later_is_refused_first(digits, tmp_path, case):
    slt, message = CASES[case]
    cfg = _cfg(tmp_path, "bad", {**CFG, "SLT": slt})
    _assert_one_line_error(*_cli("train", "-cfg", cfg, "-data", digits, "-save", tmp_path / "s", *QUICK), message,
                           tmp_path / "s")


def _bomb(levels=9):
    """A few hundred bytes that stand for 10^levels values."""
    lines = ['b0: &b0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"b{i}: &b{i} [{', '.join([f'*b{i - 1}'] * 10)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("where", ["OPTIMIZATION.g_lr", "SLT.targets", "self"])
def test_a_yaml_alias_bomb_is_refused_before_studiogan_sees_it(digits, tmp_path, where):
    text = _bomb() + yaml.safe_dump(CFG)
    if where == "self":  # an alias inside itself
        text = "loop: &loop [1, *loop]\n" + yaml.safe_dump(CFG)
    else:
        section, key = where.split(".")
        text = text.replace(f"{section}:\n", f"{section}:\n  {key}: *b9\n", 1)
    cfg = _cfg(tmp_path, "bomb", text=text)
    _assert_one_line_error(*_cli("train", "-cfg", cfg, "-data", digits, "-save", tmp_path / "s", *QUICK),
                           "stands for more than 100,000 values", tmp_path / "s")
