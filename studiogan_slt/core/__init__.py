"""Plain-PyTorch core: never imports StudioGAN."""
