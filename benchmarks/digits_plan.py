"""The reproduction's plan: its recipe constants and the list of runs (see reproduce_digits.py)."""
from dataclasses import dataclass, field

EXTRACTOR_NETWORK = "studiogan_slt.metrics.digits_net:digits_cnn"
NUM_IMAGES = 296  # the digits valid split: the metric compares as many generated images as real ones
CONTROL_STEPS = 100
LONGER = "moment matching, longer search"

DATA = {"name": "DIGITS", "img_size": 32, "num_classes": 10}
# StudioGAN flips training images at random by default (PRE.apply_rflip); a mirrored digit is not a digit
# (docs/recipe-study.md, "Two traps in StudioGAN's data path").
PRE = {"apply_rflip": False}

# The search recipe (benchmarks/search_recipe.py; docs/recipe-study.md has the study). Both moment-matching arms
# use the same loss, generator, batch and budget; each arm has its own optimiser settings, tuned the same way.
GENERATOR = {"backbone": "resnet", "g_cond_mtd": "W/O", "d_cond_mtd": "W/O", "g_conv_dim": 16, "d_conv_dim": 16,
             "z_dim": 128, "apply_g_ema": False}
MOMENTS = {"ama": True, "ama_lr": 1e-5, "lr_schedule": "cosine"}  # the paper's AMA loss
SLT_RECIPE = {"weight_init": "signed_kaiming_constant", "scaled": True, "score_init": "kaiming_uniform",
              "bias_init": "uniform", "mask_bias": True}
DENSE_LR, SLT_LR = 2e-3, 0.03
# StudioGAN's CIFAR10 DCGAN config takes 2 D steps per G step; with 2, D's loss was 1e-4 by step 50 in a first
# study and both generators collapsed, so one D step (also a third less time per step).
ADVERSARIAL = {"model": {"backbone": "deep_conv", "g_conv_dim": "N/A", "d_conv_dim": "N/A"},
               "batch_size": 64, "d_updates_per_step": 1, "dense_lr": 2e-4, "slt_lr": 0.1}


@dataclass
class Spec:
    name: str          # config basename, hence StudioGAN's run name
    group: str         # table section
    yaml: dict
    seed: int
    ticket: bool = False
    wall: dict = field(default_factory=dict)


def _moment_cfg(steps, lr, slt):
    return {"DATA": dict(DATA), "PRE": dict(PRE), "MODEL": dict(GENERATOR),
            "OPTIMIZATION": {"batch_size": 64, "g_lr": lr, "beta1": 0.5, "beta2": 0.999, "total_steps": steps},
            "SLT": slt}


def plan(steps, seeds, extractor, adversarial_steps, longer, control_steps=CONTROL_STEPS):
    # One cache of the real statistics for every run (the key is the same; writes are atomic).
    moments = {**MOMENTS, "extractors": [{"network": EXTRACTOR_NETWORK, "weights": str(extractor)}],
               "cache_dir": str(extractor.parent / "moments")}
    dense = {"train_mode": "dense_moment_matching", "moments": moments}

    def slt(k, seed):
        return {"k": k, "train_mode": "moment_matching", "seed": seed, **SLT_RECIPE, "moments": moments}

    specs = [Spec(f"MM-dense-s{s}", "moment matching", _moment_cfg(steps, DENSE_LR, dense), s) for s in seeds]
    for k in (0.5, 0.3, 0.1, 0.05):
        for s in (seeds if k == 0.1 else seeds[:1]):
            specs.append(Spec(f"MM-SLT-k{k}-s{s}", "moment matching", _moment_cfg(steps, SLT_LR, slt(k, s)), s,
                              ticket=True))
    s = seeds[0]
    if longer:
        specs.append(Spec(f"MM-SLT-k0.1-{longer}steps-s{s}", LONGER,
                          _moment_cfg(longer, SLT_LR, slt(0.1, s)), s, ticket=True))
    specs.append(Spec(f"MM-dense-untrained-s{s}", "controls", _moment_cfg(control_steps, 0.0, dense), s))
    specs.append(Spec(f"MM-SLT-k0.1-random-mask-s{s}", "controls", _moment_cfg(control_steps, 0.0, slt(0.1, s)), s,
                      ticket=True))
    a = ADVERSARIAL
    for name, lr, section in (("ADV-DCGAN-dense", a["dense_lr"], None),
                              ("ADV-DCGAN-SLT-k0.1", a["slt_lr"], {"k": 0.1, "train_mode": "adversarial",
                                                                  "seed": s, **SLT_RECIPE})):
        cfg = {"DATA": dict(DATA), "PRE": dict(PRE), "MODEL": dict(a["model"]),
               "OPTIMIZATION": {"batch_size": a["batch_size"], "d_updates_per_step": a["d_updates_per_step"],
                                "g_lr": lr, "total_steps": adversarial_steps}}
        if section:
            cfg["SLT"] = section
        specs.append(Spec(f"{name}-s{s}", "adversarial (StudioGAN DCGAN)", cfg, s, ticket=section is not None))
    return specs
