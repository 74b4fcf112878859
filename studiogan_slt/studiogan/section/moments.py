"""The `SLT.moments` options of the moment-matching modes and of the moment loss added to the adversarial one
(loop/moment_mode.py runs them).

Options, validated when the config loads:
  extractors        list of extractor specs (see moments/extractors.py); default [vgg19_bn] with ImageNet weights
  bn_mode           train | eval: extractor BatchNorm statistics (train = per batch, as GFMN and the paper)
  ama               true: Adam moving average of the moment differences (GFMN, paper); false: plain MSE
  ama_lr, ama_betas Adam for v_mu, v_var (1e-5, [0.5, 0.999])
  ama_init          zeros (paper pseudocode) | linear (GFMN's nn.Linear default init)
  lr_schedule       cosine: the learning rate of G's optimizer decays to 0 along a half cosine over the run's
                    total_steps (settles the masks; on digits 23 FID better than constant, docs/search-curves.md)
                    | constant: the paper's (§2.7) | cosine_quirk: the released code's CosineAnnealingLR(T_max=10)
                    stepped EVERY iteration on the score optimiser and the AMA optimiser (lr swings between base and
                    0 with period 20): a quirk, kept only for fidelity. null (default): cosine in the moment-matching
                    modes; constant with `weight`, where G's lr is StudioGAN's, which holds it constant
  stats_batch_size  batch size of the real-statistics pass (at most 4,096); null = OPTIMIZATION.batch_size (per
                    rank), which keeps per-batch BatchNorm statistics of real and fake batches alike
  cache_dir         where real statistics are cached; null = <-save>/moments
  weight            train_mode adversarial only (required there): G's gradient at every update is that of
                    StudioGAN's adversarial loss plus `weight` times that of the moment loss on a batch of its own
                    (a mixed loss: the discriminator's signal, with the moments holding the search on the data while
                    D is far ahead); the moment-matching modes have no other loss, so no weight
"""
import os

from studiogan_slt.errors import SLTError, shown
from studiogan_slt.moments.extractors import BN_MODES, check_spec_files, parse_spec
from studiogan_slt.moments.loss import AMA_INITS
from studiogan_slt.studiogan.section.values import fail
from studiogan_slt.supermask.options import is_int, is_number

DEFAULTS = {"extractors": ["vgg19_bn"], "bn_mode": "train", "ama": True, "ama_lr": 1e-5, "ama_betas": [0.5, 0.999],
            "ama_init": "zeros", "lr_schedule": None, "stats_batch_size": None, "cache_dir": None, "weight": None}
LR_SCHEDULES = ("constant", "cosine", "cosine_quirk")
# a batch of real images is in memory at once: 4,096 RGB images of 256 px are 3 GB of float32
MAX_STATS_BATCH = 4096


def _validate_extractors(specs):
    if not isinstance(specs, list) or not specs:
        fail("moments.extractors", f"{shown(specs)} is not allowed; use a non-empty list of torchvision names or "
                                   "{network: module:function, weights: PATH} mappings, e.g. [vgg19_bn]")
    out = []
    for i, spec in enumerate(specs):
        try:
            spec = parse_spec(spec)
            if spec.get("weights") is not None and "network" in spec:
                spec["weights"] = os.path.abspath(spec["weights"])
            check_spec_files(spec)
        except (ValueError, SLTError) as err:
            fail(f"moments.extractors[{i}]", str(err))
        out.append(spec)
    return out


def validate(d):
    """Full, checked `SLT.moments` dict (defaults filled in); SLTError naming the key and what is allowed."""
    if not isinstance(d, dict):
        raise SLTError(f"SLT.moments: {d!r} is not allowed; use a mapping with keys {', '.join(DEFAULTS)}")
    for key in d:
        if key not in DEFAULTS:
            fail(f"moments.{key}", f"unknown key; allowed keys: {', '.join(DEFAULTS)}")
    v = dict(DEFAULTS, **d)
    if v["bn_mode"] not in BN_MODES:
        fail("moments.bn_mode", f"{v['bn_mode']!r} is not allowed; use one of {', '.join(BN_MODES)}")
    if v["ama_init"] not in AMA_INITS:
        fail("moments.ama_init", f"{v['ama_init']!r} is not allowed; use one of {', '.join(AMA_INITS)}")
    if v["lr_schedule"] is None:
        v["lr_schedule"] = "constant" if v["weight"] is not None else "cosine"
    if v["lr_schedule"] not in LR_SCHEDULES:
        fail("moments.lr_schedule", f"{v['lr_schedule']!r} is not allowed; use one of {', '.join(LR_SCHEDULES)}")
    if not isinstance(v["ama"], bool):
        fail("moments.ama", f"{v['ama']!r} is not allowed; use true or false")
    if not is_number(v["ama_lr"]) or v["ama_lr"] <= 0:
        fail("moments.ama_lr", f"{v['ama_lr']!r} is not allowed; use a positive number")
    betas = v["ama_betas"]
    if not isinstance(betas, (list, tuple)) or len(betas) != 2 or not all(is_number(b) and 0 <= b < 1 for b in betas):
        fail("moments.ama_betas", f"{betas!r} is not allowed; use two numbers in [0, 1), e.g. [0.5, 0.999]")
    size = v["stats_batch_size"]
    if size is not None and (not is_int(size) or not 2 <= size <= MAX_STATS_BATCH):
        fail("moments.stats_batch_size", f"{shown(size)} is not allowed; use an integer in [2, {MAX_STATS_BATCH}] "
                                         "or null")
    if v["weight"] is not None and (not is_number(v["weight"]) or v["weight"] <= 0):
        fail("moments.weight", f"{v['weight']!r} is not allowed; use a positive number (the weight of the moment "
                               "loss added to the adversarial loss)")
    if v["cache_dir"] is not None and not isinstance(v["cache_dir"], str):
        fail("moments.cache_dir", f"{v['cache_dir']!r} is not allowed; use a folder path or null")
    v["ama_betas"] = [float(b) for b in betas]
    v["extractors"] = _validate_extractors(v["extractors"])
    if v["cache_dir"] is not None:
        v["cache_dir"] = os.path.abspath(v["cache_dir"])
    return v
