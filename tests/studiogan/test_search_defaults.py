"""The StudioGAN settings an adversarial score search changes (studiogan/search_defaults.py): only for an
adversarial search, each unless named in SLT.keep_host, one log line per change. No StudioGAN needed."""
from types import SimpleNamespace

import pytest

from studiogan_slt.errors import SLTError
from studiogan_slt.studiogan import search_defaults, slt_section

NAMES = list(search_defaults.ADVERSARIAL)


def _cfgs(value=lambda v: ("host", v)):
    """StudioGAN's parsed config as far as the table touches it; by default at values other than the search's."""
    cfgs = SimpleNamespace()
    for name, (v, _) in search_defaults.ADVERSARIAL.items():
        section, key = name.split(".")
        setattr(cfgs, section, getattr(cfgs, section, SimpleNamespace()))
        setattr(getattr(cfgs, section), key, value(v))
    return cfgs


def _get(cfgs, name):
    section, key = name.split(".")
    return getattr(getattr(cfgs, section), key)


def _search(**slt):
    return slt_section.validate({"k": 0.1, **slt})


def test_every_setting_changed_and_logged_once():
    cfgs = _cfgs()
    lines = search_defaults.apply(cfgs, _search())
    assert len(lines) == len(NAMES)
    for (name, (value, why)), line in zip(search_defaults.ADVERSARIAL.items(), lines):
        assert _get(cfgs, name) == value
        assert line.startswith(f"SLT: {name} ") and f"-> {value} " in line and why in line and "keep_host" in line
        assert "\n" not in line


def test_keep_host_keeps_the_yaml_value():
    cfgs = _cfgs()
    lines = search_defaults.apply(cfgs, _search(keep_host=NAMES[:1]))
    assert _get(cfgs, NAMES[0]) == ("host", search_defaults.ADVERSARIAL[NAMES[0]][0])
    assert not any(line.startswith(f"SLT: {NAMES[0]} ") for line in lines) and len(lines) == len(NAMES) - 1


@pytest.mark.parametrize("slt", [slt_section.dense_defaults(),
                                 slt_section.validate({"digits_metric": "kid"}),
                                 {**slt_section.dense_defaults(), "k": 0.1, "train_mode": "moment_matching"}])
def test_nothing_changes_outside_an_adversarial_search(slt):
    cfgs = _cfgs()
    assert search_defaults.apply(cfgs, slt) == []
    assert cfgs == _cfgs()


def test_a_value_already_right_is_not_logged():
    cfgs = _cfgs(value=lambda v: v)
    assert search_defaults.apply(cfgs, _search()) == []


@pytest.mark.parametrize("keep", ["OPTIMIZATION.d_updates_per_step", ["OPTIMIZATION.g_lr_typo"], [3]])
def test_keep_host_names_only_settings_of_the_table(keep):
    with pytest.raises(SLTError, match="SLT.keep_host: .* not allowed"):
        _search(keep_host=keep)
