"""Options shared by several commands, defined once.

train and eval hand every argument the plugin does not define to StudioGAN's main.py unchanged (-cfg, -data, -save,
-ckpt, -metrics, -DDP, --seed, ...), so they have no `-h` short option: StudioGAN has flags such as -hdf5 and
-batch_stat that click would otherwise read as `-h`.
"""
import click

studiogan_root = click.option(
    "--studiogan-root", type=click.Path(file_okay=False), default=None,
    help="PyTorch-StudioGAN checkout (default: $STUDIOGAN_ROOT, then the clone made by `studiogan-slt studiogan "
         "fetch`).")
trust_builder = click.option(
    "--trust-builder", is_flag=True,
    help="Let a ticket whose builder is an import path (a user's own builder, not a registered one) import and run "
         "it: use only for tickets you trust.")
json_output = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")


def best(help_text):
    """-best: StudioGAN's best checkpoint of a run instead of its current one (StudioGAN spells it -best too)."""
    return click.option("-best", "--best", "best", is_flag=True, help=help_text)


run_dirs = click.argument("run_dirs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))

PASS_THROUGH = {"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": ["--help"]}


def pass_through(command):
    """train/eval: the plugin's own options, then every other argument for StudioGAN's main.py."""
    command = click.option("--nproc", type=click.IntRange(min=1), default=1, show_default=True,
                           help="CPU only: number of -DDP processes (gloo backend).")(command)
    command = studiogan_root(command)
    return click.argument("studiogan_args", nargs=-1, type=click.UNPROCESSED)(command)
