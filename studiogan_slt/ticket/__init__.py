"""The `.slt` ticket file: container, tiers, bit packing, report, sampling, save/load. Never imports StudioGAN.

The tier names live here, in the package's import-free __init__, so the CLI can offer them without importing torch.
"""
TIERS = ("seeded", "signs", "values")  # how a masked tensor's frozen values are stored (tiers.py)
TIER_CHOICES = ("auto", *TIERS)  # "auto": the smallest exact tier per tensor
