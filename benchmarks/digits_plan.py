"""The reproduction's plan: its recipe constants and its `studiogan-slt sweep` invocations (see reproduce_digits.py)."""
from dataclasses import dataclass

EXTRACTOR_NETWORK = "studiogan_slt.metrics.digits_net:digits_cnn"
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
class Sweep:
    """One `studiogan-slt sweep`: -cfg (the search's YAML; sweep sets SLT.k and SLT.seed per point), --k, --seeds,
    and the dense points' YAML (--dense --dense-cfg) if any. The YAMLs' file names are the stems below, so sweep
    names the points <name>-k<k>-s<seed> and <dense_name>-s<seed>."""
    section: str         # table section of its points
    name: str
    cfg: dict
    ks: tuple
    seeds: tuple
    dense_name: str = None
    dense: dict = None
    folder: str = "points"  # its -save under --out; the figure is sweep's own, over every point of "points"

    @property
    def steps(self):
        return self.cfg["OPTIMIZATION"]["total_steps"]


def _moment_cfg(steps, lr, slt):
    return {"DATA": dict(DATA), "PRE": dict(PRE), "MODEL": dict(GENERATOR),
            "OPTIMIZATION": {"batch_size": 64, "g_lr": lr, "beta1": 0.5, "beta2": 0.999, "total_steps": steps},
            "SLT": slt}


def _dcgan_cfg(steps, lr):
    a = ADVERSARIAL
    return {"DATA": dict(DATA), "PRE": dict(PRE), "MODEL": dict(a["model"]),
            "OPTIMIZATION": {"batch_size": a["batch_size"], "d_updates_per_step": a["d_updates_per_step"],
                             "g_lr": lr, "total_steps": steps}}


def plan(steps, seeds, extractor, adversarial_steps, longer, control_steps=CONTROL_STEPS):
    """The sweeps of the study, all of equal budget but the longer search (its own -save, out of the figure)."""
    # One cache of the real statistics for every run (the key is the same; writes are atomic).
    moments = {**MOMENTS, "extractors": [{"network": EXTRACTOR_NETWORK, "weights": str(extractor)}],
               "cache_dir": str(extractor.parent / "moments")}
    dense = {"train_mode": "dense_moment_matching", "moments": moments}
    s = seeds[0]
    slt = {"k": 0.1, "train_mode": "moment_matching", "seed": s, **SLT_RECIPE, "moments": moments}
    search = _moment_cfg(steps, SLT_LR, slt)
    mm = "moment matching"
    sweeps = [Sweep(mm, "MM-SLT", search, (0.1,), tuple(seeds), "MM-dense", _moment_cfg(steps, DENSE_LR, dense)),
              Sweep(mm, "MM-SLT", search, (0.5, 0.3, 0.05), (s,))]
    if longer:
        sweeps.append(Sweep(LONGER, f"MM-SLT-{longer}steps", _moment_cfg(longer, SLT_LR, slt), (0.1,), (s,),
                            folder="longer"))
    sweeps.append(Sweep("controls", "MM-SLT-random-mask", _moment_cfg(control_steps, 0.0, slt), (0.1,), (s,),
                        "MM-dense-untrained", _moment_cfg(control_steps, 0.0, dense)))
    a = ADVERSARIAL
    ticket = {**_dcgan_cfg(adversarial_steps, a["slt_lr"]),
              "SLT": {"k": 0.1, "train_mode": "adversarial", "seed": s, **SLT_RECIPE}}
    sweeps.append(Sweep("adversarial (StudioGAN DCGAN)", "ADV-DCGAN-SLT", ticket, (0.1,), (s,), "ADV-DCGAN-dense",
                        _dcgan_cfg(adversarial_steps, a["dense_lr"])))
    return sweeps
