"""The variants of adversarial_study.py (issue 13, then issue 25's moment-matching pairs): what each one changes in
the shipped digits configs, its dense reference trained with the same loss, and the run folder it is kept in."""
import re
from pathlib import Path

import yaml

from digits_plan import DENSE_LR

CONFIGS = Path(__file__).resolve().parents[1] / "configs" / "digits"
# a variant's name prefix: the config it changes; its dense reference is the variant PREFIX + "dense"
FAMILIES = {"sngan-": "SNGAN", "": "DCGAN"}
METRIC = "fid_train"
SEEDED = {"weight_init": "signed_kaiming_constant", "scaled": True}  # the moment-matching recipe's frozen weights
HOST_INIT = {"weight_init": "keep", "scaled": False}
MOMENTS = {"extractors": ["digits_cnn"], "ama": True, "ama_lr": 1e-5}  # the built-in extractor, the paper's AMA
MM = {"train_mode": "moment_matching", "moments": {**MOMENTS, "lr_schedule": "cosine"}}  # no discriminator
DENSE = {"dense": True}  # a variant's override that trains its YAML's dense reference (sweep --dense derives it)


# name: (what it tests, {section: {key: value}} merged into configs/digits/DCGAN.yaml, **DENSE: its dense reference)
VARIANTS = {
    "dense": ("dense DCGAN, 1 D step per G step (the reference of docs/results.md)",
              {"OPTIMIZATION": {"d_updates_per_step": 1}, **DENSE}),
    "dense-d2": ("dense DCGAN as configs/digits/DCGAN.yaml trains it (2 D steps per G step)", DENSE),
    "dense-mixed-w10": ("dense DCGAN, 1 D step, adversarial loss + 10 x the moment loss: the dense reference trained "
                        "with mixed-w10's loss", {"OPTIMIZATION": {"d_updates_per_step": 1},
                                                   "SLT": {"moments": {**MOMENTS, "weight": 10.0}}, **DENSE}),
    "yaml": ("configs/digits/DCGAN.yaml without its moment loss (score lr = StudioGAN's g_lr 2e-4) with StudioGAN's "
             "own init (weight_init keep, the section's default before this study) and the plugin's "
             "d_updates_per_step 2 -> 1",
             {"SLT": HOST_INIT}),
    "yaml-host": ("as yaml, with the YAML's own 2 D steps per G step (SLT.keep_host)",
                  {"SLT": {**HOST_INIT, "keep_host": ["OPTIMIZATION.d_updates_per_step"]}}),
    "lr0.1": ("score lr 0.1, 1 D step, seeded signed constant (docs/results.md's run)",
              {"OPTIMIZATION": {"d_updates_per_step": 1, "g_lr": 0.1}, "SLT": SEEDED}),
    "lr2e-3": ("score lr 2e-3, 1 D step, seeded signed constant",
               {"OPTIMIZATION": {"d_updates_per_step": 1, "g_lr": 2e-3}, "SLT": SEEDED}),
    "d1-seeded": ("as yaml, with the seeded signed constant init (weight_init signed_kaiming_constant, scaled: "
                  "the section's default since this study)",
                  {"OPTIMIZATION": {"d_updates_per_step": 1}, "SLT": SEEDED}),
    "slowD": ("score lr 2e-4, 1 D step, seeded signed constant, D lr 2e-5 (D 10x slower)",
              {"OPTIMIZATION": {"d_updates_per_step": 1, "d_lr": 2e-5}, "SLT": SEEDED}),
    "GD": ("G and D both searched as tickets, score lr 2e-4 each, 1 D step, seeded signed constant",
           {"OPTIMIZATION": {"d_updates_per_step": 1}, "SLT": {**SEEDED, "targets": ["G", "D"]}}),
    "hinge": ("hinge loss, score lr 2e-4, 1 D step, seeded signed constant",
              {"OPTIMIZATION": {"d_updates_per_step": 1}, "LOSS": {"adv_loss": "hinge"}, "SLT": SEEDED}),
    "diffaug": ("DiffAugment on D's inputs, score lr 2e-4, 1 D step, seeded signed constant",
                {"OPTIMIZATION": {"d_updates_per_step": 1}, "SLT": SEEDED,
                 "AUG": {"apply_diffaug": True, "diffaug_type": "diffaug"}}),
    "learn_bn": ("BatchNorm affines trained, score lr 2e-4, 1 D step, seeded signed constant",
                 {"OPTIMIZATION": {"d_updates_per_step": 1}, "SLT": {**SEEDED, "learn_bn": True}}),
    "mixed-w1": ("adversarial loss + 1 x the moment loss (digits CNN, AMA), score lr 2e-4, 1 D step, seeded",
                 {"OPTIMIZATION": {"d_updates_per_step": 1}, "SLT": {**SEEDED, "moments": {**MOMENTS, "weight": 1.0}}}),
    "mixed-w10": ("adversarial loss + 10 x the moment loss (digits CNN, AMA), score lr 2e-4, 1 D step, seeded",
                  {"OPTIMIZATION": {"d_updates_per_step": 1},
                   "SLT": {**SEEDED, "moments": {**MOMENTS, "weight": 10.0}}}),
    "mm": ("moment matching alone (no D; digits CNN, AMA, cosine), score lr 0.03, seeded: the moment-matching ticket "
           "of the same generator", {"OPTIMIZATION": {"g_lr": 0.03}, "SLT": {**SEEDED, **MM}}),
    "mm-learn_bn": ("as mm, with the BatchNorm affines trained (+BN of biprop; not a pure SLT)",
                    {"OPTIMIZATION": {"g_lr": 0.03}, "SLT": {**SEEDED, **MM, "learn_bn": True}}),
    "dense-mm": ("dense DCGAN trained by mm's loss, Adam on the weights at the digits recipe's dense lr (not tuned "
                 "for DCGAN)", {"OPTIMIZATION": {"g_lr": DENSE_LR}, "SLT": MM, **DENSE}),
    # dense-mm's lr bracket: a ticket at par with dense-mm means little if dense-mm's lr handicaps it
    **{f"dense-mm-lr{lr:g}": (f"as dense-mm at lr {lr:g}", {"OPTIMIZATION": {"g_lr": lr}, "SLT": MM, **DENSE})
       for lr in (DENSE_LR * 4 ** e for e in (-2, -1, 1, 2))},
    "sngan-dense": ("dense SNGAN as configs/digits/SNGAN.yaml trains it (hinge, spectral norm in D, cBN, 2 D steps)",
                    DENSE),
    "sngan-yaml": ("configs/digits/SNGAN.yaml without its moment loss (the adversarial search alone; seeded init, "
                   "1 D step)", {"SLT": {}}),
    "sngan-mixed-w10": ("SNGAN.yaml + 10 x the moment loss (digits CNN, AMA), 1 D step, seeded",
                        {"SLT": {**SEEDED, "moments": {**MOMENTS, "weight": 10.0}}}),
    "sngan-dense-mixed-w10": ("dense SNGAN as SNGAN.yaml trains it (2 D steps), adversarial loss + 10 x the moment "
                              "loss: the dense reference trained with sngan-mixed-w10's loss",
                              {"SLT": {"moments": {**MOMENTS, "weight": 10.0}}, **DENSE}),
}

# a ticket variant: the dense variant trained with the same loss (a fairer reference than the adversarial dense run)
SAME_LOSS = {"mixed-w10": "dense-mixed-w10", "sngan-mixed-w10": "sngan-dense-mixed-w10",
             **dict.fromkeys(("mm", "mm-learn_bn"), "dense-mm")}


VARIANT_FOLDER = re.compile(r"(.+)-(\d+)steps")  # variant_folder's names, parsed back


def variant_folder(variant, steps):
    """The run folder of a variant and budget, under --out and under --data (second_network.py's JSONs too)."""
    return f"{variant}-{steps}steps"


def family(name):
    """A variant's FAMILIES prefix: "sngan-" or ""."""
    return next(prefix for prefix in FAMILIES if name.startswith(prefix))


def base_config(name):
    """The shipped config a variant changes."""
    return CONFIGS / f"{FAMILIES[family(name)]}.yaml"


def variant_sections(name, steps):
    """The config sections a variant trains for `steps` steps: its base config with its overrides, its own loss,
    and the digits metric at every save."""
    overrides = VARIANTS[name][1]
    base = yaml.safe_load(base_config(name).read_text())
    sections = {key: dict(value) for key, value in base.items()}
    # the shipped YAMLs search with the mixed loss; here every variant names its own loss (none: adversarial alone)
    sections["SLT"].pop("moments", None)
    for key, value in overrides.items():
        if key not in DENSE:
            sections[key] = {**sections.get(key, {}), **value}
    if "moments" not in sections["SLT"]:  # the adversarial loss alone, not the digits default (search_defaults.py)
        sections["SLT"]["keep_host"] = [*sections["SLT"].get("keep_host", []), "SLT.moments"]
    sections["OPTIMIZATION"]["total_steps"] = steps
    sections["SLT"]["digits_metric"] = METRIC
    return sections
