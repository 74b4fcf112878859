"""What runs inside StudioGAN's training loop: the hooks that patch it and the worker subclass they install."""
