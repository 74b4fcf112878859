"""Weights & Biases for StudioGAN runs: the user's real wandb when it is installed, a no-op stub otherwise.

StudioGAN logs its losses and metrics with wandb (worker.py:180 init, :712-916 log), and its users watch those
dashboards, so the real module is kept; only the two calls that do not work as StudioGAN makes them are adapted
(see StudioGANWandb). The plugin's own numbers (search diagnostics) go to the run log and
statistics/<run>/slt_diagnostics.csv, not to wandb.
"""
import logging
import os
import sys
import types

_log = logging.getLogger(__name__)


class _WandbStub(types.ModuleType):
    """No-op wandb for a machine without it: StudioGAN's numbers go to its own log file and statistics/ anyway."""

    def __getattr__(self, name):
        if name.startswith("__"):  # module protocol lookups (__file__, __path__, ...) must fail as usual
            raise AttributeError(name)
        return self._noop

    @staticmethod
    def _noop(*args, **kwargs):
        return None


WANDB_STUB = _WandbStub("wandb")


class StudioGANWandb(types.ModuleType):
    """The real wandb module, as StudioGAN's loader.py and worker.py see it, with two calls adapted."""

    def __init__(self, real):
        super().__init__("wandb")
        self._real = real

    def __getattr__(self, name):
        return getattr(self._real, name)

    def Image(self, data, *args, **kwargs):  # noqa: N802 (wandb's name)
        """worker.py:798 passes the whole canvas batch [N, C, H, W] in [-1, 1]; wandb.Image takes one image and
        fails on 4 dimensions (a permute error, even with WANDB_MODE=disabled). Tile the batch into one grid as
        StudioGAN's own canvas does (misc.plot_img_canvas)."""
        if getattr(data, "ndim", 0) == 4:
            from torchvision.utils import make_grid

            data = make_grid(data.detach().float().cpu(), nrow=8, normalize=True, value_range=(-1, 1))
        return self._real.Image(data, *args, **kwargs)

    def init(self, *args, **kwargs):
        """worker.py:180 calls wandb.init unconditionally. Without credentials and without WANDB_MODE, wandb
        stops the run with a UsageError (or prompts on a terminal); there, logging is disabled instead, as
        before the plugin kept the real module, and one line says how to turn it on."""
        if "mode" not in kwargs and not os.environ.get("WANDB_MODE") \
                and not self._real.login(prompt=False, verify=False):
            _log.warning("wandb: no credentials and WANDB_MODE unset, so this run is not logged to Weights & "
                         "Biases; `wandb login`, or WANDB_MODE=offline for a local run folder")
            kwargs["mode"] = "disabled"
        return self._real.init(*args, **kwargs)


def studiogan_wandb():
    """What StudioGAN's modules get as `wandb`: the module they imported (the real one, or the stub when
    wandb is not installed) with the adaptations above."""
    module = sys.modules.get("wandb")
    if module is None or module is WANDB_STUB or isinstance(module, StudioGANWandb):
        return module or WANDB_STUB
    return StudioGANWandb(module)

