"""StudioGAN settings the plugin changes for an adversarial score search (train_mode adversarial with a k).

A StudioGAN YAML writes out the settings of its dense training (its DCGAN sets d_updates_per_step: 2), and a score
search does not follow them (docs/adversarial-study.md measures each). So for a search each setting of the table
below takes the search's value, whatever the YAML says, and a one-line log says what changed and why; the user
keeps the YAML's value of any of them by naming it in `SLT.keep_host` (e.g. `keep_host: [OPTIMIZATION.d_lr]`).

On the built-in digits a search whose YAML gives no `SLT.moments` also gets the mixed loss of ON_DIGITS: there the
plugin has an extractor of its own, and the adversarial search alone gives noise. Elsewhere the moment loss needs an
extractor whose weights the user provides (ImageNet VGG for CIFAR10), so no default is made up there.
"""
from studiogan_slt.studiogan.section import values

DIGITS = "DIGITS"
# "SECTION.key": (value for a search, why)
ADVERSARIAL = {
    "OPTIMIZATION.d_updates_per_step": (
        1, "with more D steps per G step the discriminator wins before the masks move"),
}
ON_DIGITS = {
    "SLT.moments": (
        {"extractors": ["digits_cnn"], "ama": True, "ama_lr": 1e-5, "weight": 10.0},
        "the adversarial search alone gives noise on digits; adding 10 x the moment loss of the built-in digits CNN "
        "gives tickets ahead of the dense DCGAN at the same budget"),
}
CHANGED = (*ADVERSARIAL, *ON_DIGITS)  # the names SLT.keep_host takes


def apply(cfgs, slt):
    """Change StudioGAN's parsed settings `cfgs` (cfgs.SLT included: the worker reads the run's SLT values there) for
    an adversarial search; returns the log lines (one per change)."""
    # Imported here: the moments options pull in torch and the feature extractors, which reading a run log or a
    # sweep plan (both read SLT.keep_host's names, CHANGED) does not need.
    from studiogan_slt.studiogan.section import moments

    if slt.get("train_mode") != values.ADVERSARIAL or not values.masks_generator(slt):
        return []
    lines = []
    for name, (value, why) in {**ADVERSARIAL, **(ON_DIGITS if cfgs.DATA.name == DIGITS else {})}.items():
        section, key = name.split(".")
        namespace = getattr(cfgs, section)
        old = getattr(namespace, key)
        # the plugin's own keys are filled in only where the YAML left them out
        if name in slt.get("keep_host", ()) or old == value or (section == "SLT" and old):
            continue
        setattr(namespace, key, moments.validate(value) if name == "SLT.moments" else value)
        lines.append(f"SLT: {name} {old} -> {value} for the adversarial score search ({why}; "
                     f"docs/adversarial-study.md); add {name} to SLT.keep_host to keep {old}")
    return lines
