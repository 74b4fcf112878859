"""`studiogan-slt train`: StudioGAN's own trainer with the SLT hooks (arguments pass through, see options.py)."""
import click

from studiogan_slt.cli import options


@click.command(context_settings=options.PASS_THROUGH)
@options.pass_through
def train(studiogan_root, nproc, studiogan_args):
    """Train with StudioGAN: studiogan-slt train -cfg CFG -data DIR -save DIR [StudioGAN flags].

    A YAML with an `SLT:` section trains a strong lottery ticket (only scores are trained); without one this is
    a plain dense StudioGAN run. -t is implied; -ckpt DIR resumes.
    """
    from studiogan_slt.studiogan import launch

    launch.run(studiogan_args, mode="train", studiogan_root=studiogan_root, nproc=nproc)
