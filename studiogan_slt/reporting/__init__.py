"""Reporting: StudioGAN's published baselines, parsing of StudioGAN run folders, comparisons and the FID-vs-k plot.

Everything here reads files only (run logs, JSON); nothing imports StudioGAN, so reports can be made on a machine
without a StudioGAN checkout.
"""
