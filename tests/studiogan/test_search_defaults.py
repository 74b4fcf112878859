"""The StudioGAN settings an adversarial score search changes (studiogan/search_defaults.py): only for an
adversarial search, only keys the YAML leaves unset, one log line per change. No StudioGAN needed."""
from types import SimpleNamespace

import pytest

from studiogan_slt.studiogan import search_defaults, slt_section


def _cfgs():
    """StudioGAN's parsed config as far as the table touches it, at values other than the search's."""
    sections = {section: SimpleNamespace() for section, _ in search_defaults.ADVERSARIAL}
    for (section, key), (value, _) in search_defaults.ADVERSARIAL.items():
        setattr(sections[section], key, ("not", value))
    return SimpleNamespace(**sections)


def _search(**slt):
    return slt_section.validate({"k": 0.1, **slt})


def test_every_setting_changed_and_logged_once():
    cfgs = _cfgs()
    lines = search_defaults.apply(cfgs, _search(), {"SLT": {"k": 0.1}})
    assert len(lines) == len(search_defaults.ADVERSARIAL)
    for ((section, key), (value, why)), line in zip(search_defaults.ADVERSARIAL.items(), lines):
        assert getattr(getattr(cfgs, section), key) == value
        assert line.startswith(f"SLT: {section}.{key} ") and f"-> {value} " in line and why in line
        assert "\n" not in line


def test_an_explicit_value_in_the_yaml_wins():
    (section, key), (value, _) = next(iter(search_defaults.ADVERSARIAL.items()))
    cfgs = _cfgs()
    lines = search_defaults.apply(cfgs, _search(), {section: {key: ("not", value)}, "SLT": {"k": 0.1}})
    assert getattr(getattr(cfgs, section), key) == ("not", value)
    assert not any(line.startswith(f"SLT: {section}.{key} ") for line in lines)


@pytest.mark.parametrize("slt", [slt_section.dense_defaults(),
                                 slt_section.validate({"digits_metric": "kid"}),
                                 {**slt_section.dense_defaults(), "k": 0.1, "train_mode": "moment_matching"}])
def test_nothing_changes_outside_an_adversarial_search(slt):
    cfgs = _cfgs()
    assert search_defaults.apply(cfgs, slt, {}) == []
    assert vars(cfgs) == vars(_cfgs())


def test_a_value_already_right_is_not_logged():
    cfgs = _cfgs()
    for (section, key), (value, _) in search_defaults.ADVERSARIAL.items():
        setattr(getattr(cfgs, section), key, value)
    assert search_defaults.apply(cfgs, _search(), {}) == []
