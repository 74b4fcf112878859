"""StudioGAN settings the plugin changes for an adversarial score search (train_mode adversarial with a k).

A StudioGAN YAML writes out the settings of its dense training (its DCGAN sets d_updates_per_step: 2), and a score
search does not follow them (docs/adversarial-study.md measures each). So for a search each setting of the table
below takes the search's value, whatever the YAML says, and a one-line log says what changed and why; the user
keeps the YAML's value of any of them by naming it in `SLT.keep_host` (e.g. `keep_host: [OPTIMIZATION.d_lr]`).
"""
# "SECTION.key": (value for a search, why)
ADVERSARIAL = {
    "OPTIMIZATION.d_updates_per_step": (
        1, "with more D steps per G step the discriminator wins before the masks move"),
}


def apply(cfgs, slt):
    """Change StudioGAN's parsed settings `cfgs` for an adversarial search; returns the log lines (one per change)."""
    from studiogan_slt.studiogan import slt_section

    if slt.get("train_mode") != slt_section.ADVERSARIAL or not slt_section.masks_generator(slt):
        return []
    lines = []
    for name, (value, why) in ADVERSARIAL.items():
        section, key = name.split(".")
        namespace = getattr(cfgs, section)
        old = getattr(namespace, key)
        if name in slt.get("keep_host", ()) or old == value:
            continue
        setattr(namespace, key, value)
        lines.append(f"SLT: {name} {old} -> {value} for the adversarial score search ({why}; "
                     f"docs/adversarial-study.md); add {name} to SLT.keep_host to keep {old}")
    return lines
