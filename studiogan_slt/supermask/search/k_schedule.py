"""Sparsity annealing (biprop's progressive pruning): the kept fraction decays from `start` to k over `steps`.

Curve: cosine, k_t = k + (start - k) (1 + cos(pi t / steps)) / 2 for t < steps, then k: flat at both ends, so
the first steps search almost densely and the last ones settle on k. Each tensor keeps exactly
n - floor((1 - k_t) n) at step t (the same kept_count as a fixed k). k_t is a function of the step alone, so a
resumed run continues on the curve from the host's step counter; convert() leaves the module at the final k, and
a ticket always stores that k.
"""
import math
from contextlib import contextmanager

from studiogan_slt.supermask.convert import masked_tensors


def k_at(step, k, start, steps):
    if step >= steps:
        return k
    return k + (start - k) * 0.5 * (1.0 + math.cos(math.pi * step / steps))


def set_k(module, k):
    """Every mask of `module` (and its global scope) selects with kept fraction k; masks recompute lazily (their
    cache key holds k)."""
    for mt in masked_tensors(module):
        mt.supermask.k = float(k)
        if mt.supermask.scope is not None:
            mt.supermask.scope.k = float(k)


@contextmanager
def final_k(module, k):
    """The module's masks at kept fraction k inside the block, whatever step a schedule left it at."""
    current = [mt.supermask.k for mt in masked_tensors(module)]
    set_k(module, k)
    try:
        yield module
    finally:
        for mt, value in zip(masked_tensors(module), current):
            mt.supermask.k = value
            if mt.supermask.scope is not None:
                mt.supermask.scope.k = value


class KSchedule:
    def __init__(self, module, k, start, steps):
        self.module, self.k, self.start, self.steps = module, float(k), float(start), int(steps)

    def k_at(self, step):
        return k_at(step, self.k, self.start, self.steps)

    def before_step(self, step):
        set_k(self.module, self.k_at(step))
