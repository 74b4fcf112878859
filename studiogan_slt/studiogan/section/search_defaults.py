"""StudioGAN settings the plugin changes for an adversarial score search (train_mode adversarial with a k).

A StudioGAN YAML writes out the settings of its dense training (its DCGAN sets d_updates_per_step: 2), and a score
search does not follow them (docs/adversarial-study.md measures each). So for a search each setting of the table
below takes the search's value, whatever the YAML says, and a one-line log says what changed and why; the user
keeps the YAML's value of any of them by naming it in `SLT.keep_host` (e.g. `keep_host: [OPTIMIZATION.d_lr]`).

A search whose YAML gives no `SLT.moments` also gets a moment loss added (the mixed loss): the adversarial search
alone stays far behind dense, where the moment-matching and mixed searches work. On the built-in digits it is the
moments of the plugin's own digits CNN; on any other data those of ImageNet VGG19-BN, the paper's extractor, whose
weights torchvision's downloader fetches into the torch hub folder on first use.
"""
from studiogan_slt.errors import SLTError
from studiogan_slt.studiogan.section import moments, values

DIGITS = "DIGITS"
# "SECTION.key": (value for a search, why)
ADVERSARIAL = {
    "OPTIMIZATION.d_updates_per_step": (
        1, "with more D steps per G step the discriminator wins before the masks move"),
}


def _mixed(extractor):
    return {"extractors": [extractor], "ama": True, "ama_lr": 1e-5, "weight": 10.0}


ON_DIGITS = {
    "SLT.moments": (
        _mixed("digits_cnn"),
        "the adversarial search alone gives noise on digits; adding 10 x the moment loss of the built-in digits CNN "
        "gives tickets ahead of the dense DCGAN at the same budget"),
}
ON_OTHER_DATA = {
    "SLT.moments": (
        _mixed("vgg19_bn"),
        "the adversarial search alone stays far behind dense on digits, the mixed loss does not; here with the moments "
        "of ImageNet VGG19-BN, the paper's extractor, at the weight measured on digits"),
}
CHANGED = (*ADVERSARIAL, *ON_DIGITS)  # the names SLT.keep_host takes


def apply(cfgs, slt):
    """Change StudioGAN's parsed settings `cfgs` (cfgs.SLT included: the worker reads the run's SLT values there) for
    an adversarial search; returns the log lines (one per change)."""

    if slt.get("train_mode") != values.ADVERSARIAL or not values.masks_generator(slt):
        return []
    lines = []
    for name, (value, why) in {**ADVERSARIAL, **(ON_DIGITS if cfgs.DATA.name == DIGITS else ON_OTHER_DATA)}.items():
        section, key = name.split(".")
        namespace = getattr(cfgs, section)
        old = getattr(namespace, key)
        # the plugin's own keys are filled in only where the YAML left them out
        if name in slt.get("keep_host", ()) or old == value or (section == "SLT" and old):
            continue
        setattr(namespace, key, _moments(value) if name == "SLT.moments" else value)
        lines.append(f"SLT: {name} {old} -> {value} for the adversarial score search ({why}; "
                     f"docs/adversarial-study.md); add {name} to SLT.keep_host to keep {old}")
    return lines


def _moments(value):
    try:
        return moments.validate(value)
    except SLTError as err:  # the extractor's weights cannot be had here (offline): say how to do without them
        raise SLTError(f"{err}; or add SLT.moments to SLT.keep_host for the adversarial search alone") from None
