"""`studiogan-slt train`, `eval` and `studiogan fetch`: StudioGAN's own trainer with the SLT hooks.

Every argument the plugin does not define is handed to StudioGAN's main.py unchanged (-cfg, -data, -save, -ckpt,
-metrics, -DDP, --seed, ...), so there is no `-h` short option here: StudioGAN has flags such as -hdf5 and
-batch_stat that click would otherwise read as `-h`.
"""
import click

PASS_THROUGH = {"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": ["--help"]}


def _plugin_options(command):
    command = click.option("--nproc", type=click.IntRange(min=1), default=1, show_default=True,
                           help="CPU only: number of -DDP processes (gloo backend).")(command)
    command = click.option("--studiogan-root", type=click.Path(file_okay=False), default=None,
                           help="PyTorch-StudioGAN checkout (default: $STUDIOGAN_ROOT, then the clone made by "
                                "`studiogan-slt studiogan fetch`).")(command)
    return click.argument("studiogan_args", nargs=-1, type=click.UNPROCESSED)(command)


@click.command(context_settings=PASS_THROUGH)
@_plugin_options
def train(studiogan_root, nproc, studiogan_args):
    """Train with StudioGAN: studiogan-slt train -cfg CFG -data DIR -save DIR [StudioGAN flags].

    A YAML with an `SLT:` section trains a strong lottery ticket (only scores are trained); without one this is
    a plain dense StudioGAN run. -t is implied; -ckpt DIR resumes.
    """
    from studiogan_slt.studiogan import launch

    launch.run(studiogan_args, mode="train", studiogan_root=studiogan_root, nproc=nproc)


@click.command(name="eval", context_settings=PASS_THROUGH)
@_plugin_options
def evaluate(studiogan_root, nproc, studiogan_args):
    """Evaluate a checkpoint: studiogan-slt eval -cfg CFG -data DIR -save DIR -ckpt CKPT_DIR [-metrics ...].

    Use the same YAML as for training (the SLT: section rebuilds the masked model). Other StudioGAN flags such as
    -best, -sf, -v pass through.
    """
    from studiogan_slt.studiogan import launch

    launch.run(studiogan_args, mode="eval", studiogan_root=studiogan_root, nproc=nproc)


@click.group()
def studiogan():
    """The PyTorch-StudioGAN checkout the plugin drives."""


@studiogan.command()
@click.option("--dest", type=click.Path(file_okay=False), default=None,
              help="Where to clone (default: the user cache, where train/eval look for it).")
def fetch(dest):
    """git clone PyTorch-StudioGAN at the pinned commit (947b35e)."""
    from studiogan_slt.studiogan import locate

    click.echo(locate.fetch(dest))
