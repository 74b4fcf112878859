"""What runs inside StudioGAN's training loop: the hooks that patch it and the worker subclass they install."""


def updates(OPTIMIZATION):
    """The generator updates of a run: StudioGAN's loop runs its steps 0 to total_steps inclusive (loader.py:392)."""
    return OPTIMIZATION.total_steps + 1
