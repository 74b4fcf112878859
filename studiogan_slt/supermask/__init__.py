"""Supermasks in plain PyTorch (never imports StudioGAN): what a masked tensor is and how a module gets one."""
