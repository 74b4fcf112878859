"""The `.slt` ticket file: container, tiers, bit packing, report, sampling, save/load. Never imports StudioGAN."""
