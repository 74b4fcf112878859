"""The `studiogan-slt` command.

Each command lives in the module named after it; add one with its module and one line in COMMANDS. `--help` imports
every command module (for its line of help), so a command module imports the modules that do its work inside the
function that runs it (most of them pull in torch, and each would add to every `--help`): `--help` and `--version`
stay fast (no torch import). `-h` is set on the group only: click hands help_option_names down to every
sub-command (train and eval override it, see options.py).
"""
import errno
import importlib

import click

from studiogan_slt import __version__
from studiogan_slt.errors import Interrupted, SLTError

# name -> "module:attribute" of a click.Command
COMMANDS = {
    "extractor": "studiogan_slt.cli.extractor:extractor",
    "data": "studiogan_slt.cli.data:data",
    "train": "studiogan_slt.cli.train:train",
    "eval": "studiogan_slt.cli.eval:evaluate",
    "sweep": "studiogan_slt.cli.sweep:sweep",
    "studiogan": "studiogan_slt.cli.studiogan:studiogan",
    "export": "studiogan_slt.cli.export:export",
    "sample": "studiogan_slt.cli.sample:sample",
    "report": "studiogan_slt.cli.report:report",
    "baselines": "studiogan_slt.cli.baselines:baselines",
    "compare": "studiogan_slt.cli.compare:compare",
    "plot": "studiogan_slt.cli.plot:plot",
    "digits-fid": "studiogan_slt.cli.digits_fid:digits_fid",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        return getattr(importlib.import_module(module_name), attr)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except SLTError as e:
            # A user error: one line and exit 2, like click's own usage errors; the message says what to change.
            click.echo(f"Error: {e}", err=True)
            ctx.exit(e.exit_code)
        except OSError as e:
            if e.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            # Every file and folder is written under a temporary name (atomic.py), removed when the write fails.
            where = f" writing {e.filename}" if e.filename else ""
            click.echo(f"Error: no space left on the device{where} ({e.strerror or e}); nothing was half-written: "
                       "free some space and run the same command again", err=True)
            ctx.exit(SLTError.exit_code)
        except KeyboardInterrupt:  # before a run started (launch.run says more once one has)
            click.echo("Error: interrupted", err=True)
            ctx.exit(Interrupted.exit_code)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="studiogan-slt")
def main():
    """Find strong lottery tickets (sparse subnetworks of random, never-trained generators) in
    PyTorch-StudioGAN models. k is the fraction of weights KEPT."""
