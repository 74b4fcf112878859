"""The settings an adversarial score search changes (studiogan/search_defaults.py): only for an adversarial search,
each unless named in SLT.keep_host, one log line per change; the mixed loss where the YAML gives no moments (the
digits CNN on DIGITS, ImageNet VGG19-BN elsewhere). No StudioGAN needed, but for the test that parses through
StudioGAN's own config."""
from types import SimpleNamespace

import pytest

from studiogan_slt.errors import SLTError
from studiogan_slt.studiogan.section import search_defaults, slt_section

NAMES = list(search_defaults.ADVERSARIAL)


def _cfgs(value=lambda v: ("host", v), data="CIFAR10", moments=None):
    """StudioGAN's parsed config as far as the tables touch it; by default at values other than the search's."""
    cfgs = SimpleNamespace(DATA=SimpleNamespace(name=data), SLT=SimpleNamespace(moments=moments or {}))
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


def test_every_setting_changed_and_logged_once(vgg19_bn_in_hub):
    cfgs = _cfgs()
    lines = search_defaults.apply(cfgs, _search())
    assert len(lines) == len(NAMES) + 1 and lines[-1].startswith("SLT: SLT.moments {} -> ")
    for (name, (value, why)), line in zip(search_defaults.ADVERSARIAL.items(), lines):
        assert _get(cfgs, name) == value
        assert line.startswith(f"SLT: {name} ") and f"-> {value} " in line and why in line and "keep_host" in line
        assert "\n" not in line


def test_keep_host_keeps_the_yaml_value():
    cfgs = _cfgs()
    lines = search_defaults.apply(cfgs, _search(keep_host=[*NAMES[:1], "SLT.moments"]))
    assert _get(cfgs, NAMES[0]) == ("host", search_defaults.ADVERSARIAL[NAMES[0]][0]) and cfgs.SLT.moments == {}
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
    assert search_defaults.apply(cfgs, _search(keep_host=["SLT.moments"])) == []


def test_on_digits_a_search_without_moments_gets_the_mixed_loss(builtin_extractor):
    from studiogan_slt.studiogan.section import moments

    value, why = search_defaults.ON_DIGITS["SLT.moments"]
    cfgs = _cfgs(data="DIGITS")
    lines = search_defaults.apply(cfgs, _search())
    assert cfgs.SLT.moments == moments.validate(value) and cfgs.SLT.moments["weight"] == 10.0
    assert cfgs.SLT.moments["extractors"][0]["weights"] == str(builtin_extractor)
    assert lines[-1].startswith("SLT: SLT.moments {} -> ") and why in lines[-1] and len(lines) == len(NAMES) + 1
    # the user's own moment loss and keep_host are left alone
    own = {"extractors": ["digits_cnn"], "weight": 1.0}
    for cfgs, slt in ((_cfgs(data="DIGITS", moments=own), _search(moments=own)),
                      (_cfgs(data="DIGITS"), _search(keep_host=["SLT.moments"])),
                      (_cfgs(moments=own), _search(moments=own)), (_cfgs(), _search(keep_host=["SLT.moments"]))):
        before = dict(cfgs.SLT.moments)
        assert not any("SLT.moments" in line for line in search_defaults.apply(cfgs, slt))
        assert cfgs.SLT.moments == before


def test_on_other_data_a_search_without_moments_gets_the_mixed_loss_on_vgg19_bn(vgg19_bn_in_hub):
    from studiogan_slt.studiogan.section import moments

    value, why = search_defaults.ON_OTHER_DATA["SLT.moments"]
    assert value == {**search_defaults.ON_DIGITS["SLT.moments"][0], "extractors": ["vgg19_bn"]}
    cfgs = _cfgs(data="CIFAR10")
    lines = search_defaults.apply(cfgs, _search())
    assert cfgs.SLT.moments == moments.validate(value) and cfgs.SLT.moments["extractors"][0]["name"] == "vgg19_bn"
    assert lines[-1].startswith("SLT: SLT.moments {} -> ") and why in lines[-1] and "keep_host" in lines[-1]


def test_offline_the_vgg19_bn_default_says_how_to_do_without_it(empty_hub):
    with pytest.raises(SLTError) as err:
        search_defaults.apply(_cfgs(data="CIFAR10"), _search())
    message = str(err.value)
    assert "\n" not in message and "vgg19_bn-c79401a0.pth" in message and str(empty_hub) in message
    assert message.endswith("or add SLT.moments to SLT.keep_host for the adversarial search alone")


@pytest.mark.parametrize("keep", ["OPTIMIZATION.d_updates_per_step", ["OPTIMIZATION.g_lr_typo"], [3]])
def test_keep_host_names_only_settings_of_the_table(keep):
    with pytest.raises(SLTError, match="SLT.keep_host: .* not allowed"):
        _search(keep_host=keep)


PARSE = """
import json, sys
from studiogan_slt.studiogan import launch
from studiogan_slt.studiogan.host import compat, locate
from studiogan_slt.studiogan.loop import hooks
from studiogan_slt.studiogan.section import slt_section
sg = compat.import_studiogan(locate.find_root())
for cfg in sys.argv[1:]:
    hooks.install_config(sg["config"], sg["utils.misc"], slt_section.load(cfg))
    cfgs = sg["config"].Configurations(cfg)
    print(json.dumps([cfgs.OPTIMIZATION.d_updates_per_step, cfgs.slt_search_changes]))
"""
# SLT section: (d_updates_per_step StudioGAN trains with, lines logged); the YAML sets 2, as StudioGAN's DCGAN does
PARSED = {"{k: 0.1}": (1, 2), "{k: 0.1, keep_host: [OPTIMIZATION.d_updates_per_step, SLT.moments]}": (2, 0),
          "{digits_metric: kid}": (2, 0)}


def test_studiogan_parses_the_search_settings(studiogan_root, tmp_path, builtin_extractor):
    """Through StudioGAN's own config parsing, in a process of its own (importing StudioGAN patches modules)."""
    import json
    import os
    import subprocess
    import sys

    cfgs = []
    for i, slt in enumerate(PARSED):
        cfgs.append(tmp_path / f"c{i}.yaml")
        cfgs[-1].write_text('DATA: {name: "DIGITS", img_size: 32, num_classes: 10}\n'
                            f"OPTIMIZATION: {{d_updates_per_step: 2}}\nSLT: {slt}\n")
    out = subprocess.run([sys.executable, "-c", PARSE, *map(str, cfgs)], capture_output=True, text=True, check=True,
                         env=dict(os.environ, STUDIOGAN_ROOT=str(studiogan_root)))
    rows = [json.loads(line) for line in out.stdout.strip().splitlines()[-len(PARSED):]]
    assert [(value, len(lines)) for value, lines in rows] == list(PARSED.values())


@pytest.mark.parametrize("backbone, slt, init", [
    ("deep_conv", "{k: 0.1}", ("signed_kaiming_constant", True, "uniform", True)),
    ("stylegan2", "{k: 0.1}", ("keep", False, "keep", False)),  # StyleGAN scales its raw weights at run time
    ("stylegan2", "{k: 0.1, weight_init: kaiming_normal}", ("kaiming_normal", False, "keep", False)),
    ("deep_conv", "{k: 0.1, weight_init: keep}", ("keep", True, "uniform", True))])
def test_default_init_per_architecture(tmp_path, backbone, slt, init):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f'MODEL: {{backbone: "{backbone}"}}\nSLT: {slt}\n')
    values = slt_section.load(cfg)
    assert (values["weight_init"], values["scaled"], values["bias_init"], values["mask_bias"]) == init


def _zero_biased():
    from torch import nn

    g = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 3))
    for m in (g[0], g[2]):
        nn.init.zeros_(m.bias)  # as StudioGAN's ops.init_weights leaves them
    return g


@pytest.mark.parametrize("backbone", ["deep_conv", "stylegan2"])
def test_a_bare_section_converts_zero_biased_layers_without_a_warning(tmp_path, backbone):
    import warnings

    from studiogan_slt import convert

    cfg = tmp_path / "c.yaml"
    cfg.write_text(f'MODEL: {{backbone: "{backbone}"}}\nSLT: {{k: 0.1}}\n')
    values = slt_section.load(cfg)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        convert(_zero_biased(), values["k"], **slt_section.convert_options(values))
    with pytest.warns(UserWarning, match="2 masked bias tensors are all zero"):
        convert(_zero_biased(), values["k"])  # convert()'s own defaults keep and mask them
