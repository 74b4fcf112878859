"""The `SLT:` section of a StudioGAN YAML: defaults, validation, one-line errors.

The section is read and validated by the plugin *before* StudioGAN is imported or anything is written to -save, so
a bad value costs the user a second, not a half-made run folder. The validated values are then registered as
StudioGAN's own `cfgs.SLT` namespace (see loop/hooks.install_config), so they appear in the run log like DATA or MODEL.

A YAML without `SLT:` is a plain dense StudioGAN run (k = "N/A", StudioGAN's own spelling of "not set").
"""
import re

from studiogan_slt import strict_yaml
from studiogan_slt.errors import SLTError, shown
from studiogan_slt.metrics.digits_eval import DEFAULT_NETWORK as DEFAULT_DIGITS_NETWORK, NETWORKS as DIGITS_NETWORKS
from studiogan_slt.metrics.digits_metrics import METRICS as DIGITS_METRICS
from studiogan_slt.studiogan.section import moments as moments_section
from studiogan_slt.studiogan.section import search_defaults
from studiogan_slt.studiogan.section.values import (ADVERSARIAL, DENSE_MOMENT_MATCHING, MOMENT_MATCHING, MOMENT_MODES,
                                                    NOT_SET, STYLEGAN_BACKBONES, TARGETS, TRAIN_MODES,
                                                    convert_options, fail)
from studiogan_slt.supermask import options as supermask_options


# Every option of studiogan_slt.convert() can be set in the section, with convert()'s own defaults but for the frozen
# tensors: a seeded draw (edge-popup's scaled signed constant), so a ticket regenerates them from its seed and stores
# masks only, where StudioGAN's own init would be stored value by value (8.7x smaller than fp32 instead of ~64x,
# docs/benchmarks.md); it searches no worse (docs/adversarial-study.md). Biases are drawn too, U(+-1/sqrt(fan_in)) as
# the paper's code keeps them, and masked: StudioGAN zeroes them (ops.init_weights), where a mask can never matter;
# every measured search ran so (docs/recipe-study.md, results.md). `types` takes class names (YAML has none).
SEARCH_INIT = {"weight_init": "signed_kaiming_constant", "scaled": True, "bias_init": "uniform"}
# StyleGAN's own init, biases included: some of them are zero, so they stay unmasked (as in its presets)
HOST_INIT = {"weight_init": "keep", "scaled": False, "bias_init": "keep", "mask_bias": False}
DEFAULTS = {"k": NOT_SET, "targets": ["G"], **supermask_options.DEFAULTS, **SEARCH_INIT, "train_mode": ADVERSARIAL,
            "moments": {}, "digits_metric": None, "digits_network": DEFAULT_DIGITS_NETWORK, "keep_host": []}


# A section of only these keys, without k, is a plain dense StudioGAN run that scores itself and (moments, with a
# weight) adds the moment loss to its adversarial one: the dense references of an adversarial search, measured the
# same way and trained with the same loss.
DENSE_KEYS = {"digits_metric", "digits_network", "moments"}


def _check_plugin_keys(values):
    k, targets, mode = values["k"], values["targets"], values["train_mode"]
    if mode not in TRAIN_MODES:
        fail("train_mode", f"{mode!r} is not allowed; use one of {', '.join(TRAIN_MODES)}")
    if k != NOT_SET and supermask_options.k_problem(k):
        fail("k", f"{shown(k)} is not allowed; use a number in (0, 1], the fraction of weights KEPT")
    if not isinstance(targets, list) or not targets or any(t not in TARGETS for t in targets) \
            or len(set(targets)) < len(targets):
        fail("targets", f"{shown(targets)} is not allowed; use a non-empty list of distinct names from G, D "
                         "(G_ema always follows G)")
    if values["digits_metric"] not in (None, *DIGITS_METRICS):
        fail("digits_metric", f"{values['digits_metric']!r} is not allowed; use one of {', '.join(DIGITS_METRICS)} "
                              "(the best checkpoint by that digits metric) or null")
    if values["digits_network"] not in DIGITS_NETWORKS:
        fail("digits_network", f"{values['digits_network']!r} is not allowed; use one of {', '.join(DIGITS_NETWORKS)} "
                               "(the evaluation network of digits_metric)")
    keep = values["keep_host"]
    if not isinstance(keep, list) or any(name not in search_defaults.CHANGED for name in keep):
        fail("keep_host", f"{keep!r} is not allowed; use a list of the settings an adversarial search "
                          f"changes: {', '.join(search_defaults.CHANGED)}")
    seed = values["seed"]
    if supermask_options.is_int(seed) and seed < 0:
        fail("seed", f"{seed} is not allowed; use an integer >= 0 (the SLT seed is always fixed; StudioGAN's "
                     "--seed -1, a random seed, has no counterpart here)")
    if not isinstance(values["moments"], dict):
        fail("moments", f"{values['moments']!r} is not allowed; use a mapping of moment-matching options")
    for key in ("include", "exclude"):
        patterns = [values[key]] if isinstance(values[key], str) else values[key]
        for pattern in patterns if isinstance(patterns, list) else []:
            try:
                re.compile(pattern)
            except (re.error, TypeError) as err:
                fail(key, f"{pattern!r} is not a valid regular expression ({err})")


def dense_defaults():
    """The values of a YAML without an SLT section: a plain dense StudioGAN run."""
    return dict(DEFAULTS, targets=list(DEFAULTS["targets"]), moments={}, keep_host=[])


def validate(section):
    """Validate the raw `SLT:` mapping of a YAML; returns the full dict of values (defaults filled in).

    Raises SLTError with one line naming the key and what is allowed.
    """
    if not isinstance(section, dict) or not section:
        raise SLTError("SLT: the section is empty or not a mapping; it needs at least `k` "
                       "(the fraction of weights kept), e.g. `SLT: {k: 0.1}`")
    for key in section:
        if key not in DEFAULTS:
            raise SLTError(f"SLT.{key}: unknown key; allowed keys: {', '.join(DEFAULTS)}")
    values = dense_defaults()
    values.update(section)
    _check_plugin_keys(values)
    try:
        supermask_options.validate(1.0 if values["k"] == NOT_SET else values["k"], convert_options(values))
    except ValueError as err:
        raise SLTError(f"SLT: {err}") from None

    mode = values["train_mode"]
    if mode == DENSE_MOMENT_MATCHING:
        if "targets" in section and values["targets"] != ["G"]:
            fail("targets", f"{values['targets']!r} is not allowed with train_mode {mode}; nothing is masked")
    elif values["k"] == NOT_SET and not set(section) <= DENSE_KEYS:
        fail("k", "required; use a number in (0, 1], the fraction of weights KEPT")
    if mode == MOMENT_MATCHING and values["targets"] != ["G"]:
        fail("targets", f"{values['targets']!r} is not allowed with train_mode {mode}; use [G] "
                         "(there is no discriminator step)")
    if mode in MOMENT_MODES or section.get("moments"):
        values["moments"] = moments_section.validate(dict(values["moments"]))
        weighted = values["moments"]["weight"] is not None
        if mode in MOMENT_MODES and weighted:
            fail("moments.weight", f"only used with train_mode {ADVERSARIAL} (the weight of the moment loss added "
                                   f"to the adversarial one); {mode} has no other loss")
        if mode == ADVERSARIAL and not weighted:
            fail("moments.weight", f"required with train_mode {ADVERSARIAL}: the moment loss is added to the "
                                   "adversarial one with this weight (or use train_mode moment_matching)")
    return values


def read(cfg_file):
    """The sections of a StudioGAN YAML ({section: values}); SLTError (one line) for a file that is not one."""
    import yaml

    try:
        with open(cfg_file) as f:
            data = strict_yaml.load(f)
    except OSError as err:
        raise SLTError(f"-cfg {cfg_file}: cannot read the config file ({err.strerror})") from None
    except UnicodeDecodeError:
        raise SLTError(f"-cfg {cfg_file}: not a YAML file (its bytes are not UTF-8 text)") from None
    except yaml.YAMLError as err:
        where = getattr(err, "problem_mark", None)
        at = f" at line {where.line + 1}" if where is not None else ""
        raise SLTError(f"-cfg {cfg_file}: not valid YAML{at} ({getattr(err, 'problem', None) or err})") from None
    if not isinstance(data, dict):
        raise SLTError(f"-cfg {cfg_file}: expected a mapping of sections (DATA, MODEL, ..., SLT)")
    return data


def load(cfg_file):
    """Read a StudioGAN YAML and return its validated SLT values; SLTError (one line) for any problem."""
    return values_of(read(cfg_file), cfg_file)


def values_of(data, cfg_file):
    """The validated SLT values of a YAML's sections `data`, read from `cfg_file`."""
    if "SLT" not in data:
        return dense_defaults()
    section = data["SLT"]
    if isinstance(section, dict) and section.get("k", NOT_SET) != NOT_SET \
            and (data.get("MODEL") or {}).get("backbone") in STYLEGAN_BACKBONES:
        # StyleGAN draws raw N(0, 1) weights and scales them at run time (equalized learning rate): a Kaiming-scaled
        # draw would be scaled twice, so there the default stays StudioGAN's own init
        section = {**HOST_INIT, **section}
    try:
        return validate(section)
    except SLTError as err:
        raise SLTError(f"-cfg {cfg_file}: {err}") from None
