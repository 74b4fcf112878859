"""The `.slt` ticket file: container, tiers, bit packing, report, sampling, save/load. Never imports StudioGAN.

The tier names and the default latent seed live here, in the package's import-free __init__, so the CLI can offer
them without importing torch.
"""
TIERS = ("seeded", "signs", "values")  # how a masked tensor's frozen values are stored (tiers.py)
TIER_CHOICES = ("auto", *TIERS)  # "auto": the smallest exact tier per tensor
LATENT_SEED = 0  # the seed of a draw that names none: `sample`'s default, the end-of-run grid, the digits metric
