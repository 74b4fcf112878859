"""StudioGAN settings the plugin changes for an adversarial score search, unless the YAML sets them itself.

A YAML that adds only `SLT: {k: ...}` keeps StudioGAN's settings for dense training, which a score search does not
follow (docs/adversarial-study.md measures each). Each change is made only when the key is absent from the user's
YAML (an explicit value always wins) and logged as one line saying what changed and why.
"""
from studiogan_slt.studiogan import slt_section

# (section, key): (value for a search, why); read by apply() and by README's "Which search mode" paragraph.
ADVERSARIAL = {
    ("OPTIMIZATION", "d_updates_per_step"): (
        1, "with more D steps per G step the discriminator wins before the masks move (docs/adversarial-study.md)"),
}


def explicit_keys(yaml_sections):
    """{(section, key)} the user's YAML sets itself."""
    return {(section, key) for section, values in (yaml_sections or {}).items() if isinstance(values, dict)
            for key in values}


def apply(cfgs, slt, yaml_sections):
    """Change StudioGAN's parsed settings `cfgs` for an adversarial search; returns the log lines (one per change)."""
    if slt.get("train_mode") != slt_section.ADVERSARIAL or not slt_section.masks_generator(slt):
        return []
    given, lines = explicit_keys(yaml_sections), []
    for (section, key), (value, why) in ADVERSARIAL.items():
        namespace = getattr(cfgs, section)
        old = getattr(namespace, key)
        if (section, key) in given or old == value:
            continue
        setattr(namespace, key, value)
        lines.append(f"SLT: {section}.{key} {old} -> {value} for the adversarial score search: {why}; set "
                     f"{section}.{key} in the YAML to keep another value")
    return lines
