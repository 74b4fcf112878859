"""What the values of a validated `SLT:` section mean: the train modes, whether G is masked, convert()'s options.

A run log's SLT section (reporting and sweeps read those) holds the same values, so these accept one too.
"""
from studiogan_slt.errors import SLTError
from studiogan_slt.supermask import options as supermask_options

ADVERSARIAL, MOMENT_MATCHING, DENSE_MOMENT_MATCHING = "adversarial", "moment_matching", "dense_moment_matching"
MOMENT_MODES = (MOMENT_MATCHING, DENSE_MOMENT_MATCHING)
TRAIN_MODES = (ADVERSARIAL, *MOMENT_MODES)
NOT_SET = "N/A"
TARGETS = ("G", "D")
STYLEGAN_BACKBONES = ("stylegan2", "stylegan3")  # no BatchNorm; a one-hot label


def fail(key, message):
    """The one-line error for a bad value of SLT.<key>."""
    raise SLTError(f"SLT.{key}: {message}")


def moment_step(values):
    """True when the run builds a moment-matching step: the moment-matching modes, and the adversarial mode with the
    moment loss added (`moments.weight`)."""
    return values["train_mode"] in MOMENT_MODES or bool(values.get("moments"))


def masks_generator(values):
    """True when G is converted (an SLT run), False for the dense runs (no SLT section, dense_moment_matching).
    `values` may be a run log's SLT section (reporting reads those), so missing keys mean a dense run."""
    values = values or {}
    return values.get("k", NOT_SET) not in (None, NOT_SET) and values.get("train_mode") != DENSE_MOMENT_MATCHING


def convert_options(values, target="G"):
    """keyword arguments for studiogan_slt.convert() (besides the module and k) of target "G" (and G_ema) or "D"."""
    # A run log written before an option existed lacks it; such a run used the option's default.
    options = {key: values.get(key, default) for key, default in supermask_options.DEFAULTS.items()}
    if target == "D":
        # Seeded inits are keyed by tensor name; a different seed keeps D's tensors from repeating G's same-named ones.
        options["seed"] += 1
    return options
