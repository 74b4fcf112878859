"""Re-randomisation of pruned weights (IteRand, Chijiwa et al., NeurIPS 2021).

Every `every` steps, each weight the current mask prunes is redrawn with probability `fraction`. A redraw moves
element i of a tensor to the next draw of its own seeded sequence (inits.drawn: draw j is a pure function of
seed, tensor name, i and j) and counts it in the Supermask's `draws` buffer. Which weights are redrawn at step t
is decided by the seeded stream "<name>#rerandomize@<t>", so a run is deterministic for a seed and a resumed run
(the weights and draws come back with the checkpoint) continues exactly. A ticket stores, per kept weight, its
draw count (mostly 0) and regenerates the values from them.
"""
import numpy as np
import torch

from studiogan_slt.supermask import inits, rng
from studiogan_slt.supermask.convert import masked_tensors


def redrawable(module):
    """The masked tensors that carry draw counts (those with a seeded init)."""
    return [mt for mt in masked_tensors(module) if hasattr(mt.supermask, "draws")]


class Rerandomizer:
    def __init__(self, module, every, fraction):
        self.module, self.every, self.fraction = module, int(every), float(fraction)
        self._done = None  # the last step redrawn, so that before_step may be called more than once per step

    def before_step(self, step):
        if step > 0 and step % self.every == 0 and step != self._done:
            self.redraw(step)
            self._done = step

    @torch.no_grad()
    def redraw(self, step):
        for mt in redrawable(self.module):
            spec, sm = mt.init, mt.supermask
            chance = rng.uniform(spec["seed"], f"{mt.name}#rerandomize@{step}", tuple(sm.draws.shape))
            chosen = (~sm.mask().cpu() & (chance < self.fraction)).reshape(-1)
            index = torch.nonzero(chosen).reshape(-1)
            if not index.numel():
                continue
            draws = sm.draws.view(-1)
            draws[index.to(draws.device)] += 1
            values = inits.drawn(spec, index.numpy(), draws[index.to(draws.device)].cpu().numpy().astype(np.int64))
            frozen = mt.frozen
            frozen.view(-1)[index.to(frozen.device)] = values.to(frozen)


@torch.no_grad()
def copy_redrawn(source, target):
    """Give `target` (an EMA copy) the source's re-randomised weights and draw counts. StudioGAN's EMA lerps every
    buffer towards the source (utils/ema.py:38), which would leave redrawn weights half-way between two draws."""
    for s, t in zip(redrawable(source), redrawable(target)):
        t.frozen.copy_(s.frozen)
        t.supermask.draws.copy_(s.supermask.draws)
