"""Levers that change masks or weights over the course of a search; each a small object the training loop calls.

`Levers(module)` holds the ones convert()'s options turned on for a converted module. The loop calls
`before_step(step)` before every step that uses the module (idempotent within a step) and, for an EMA copy of
the module, `after_step()` after the EMA update. Nothing here keeps state outside the module's own state_dict (the
kept fraction follows from the step, the re-randomised weights and their draw counts are buffers), so a host's
checkpoint is all a resumed run needs.
"""
from studiogan_slt.supermask.convert import slt_options
from studiogan_slt.supermask.search.k_schedule import KSchedule, final_k
from studiogan_slt.supermask.search.rerandomize import Rerandomizer, copy_redrawn

__all__ = ["Levers", "KSchedule", "Rerandomizer", "final_k"]


class Levers:
    """The levers of one converted module. `source`: the module this one is an EMA copy of (StudioGAN's G_ema),
    whose re-randomised weights it copies after each step instead of drawing its own."""

    def __init__(self, module, source=None):
        opts = slt_options(module)
        self.module, self.source = module, source
        self.schedule = KSchedule(module, opts["k"], **opts["k_schedule"]) if opts["k_schedule"] else None
        self.rerandomizer = (Rerandomizer(module, **opts["rerandomize"])
                             if opts["rerandomize"] and source is None else None)
        self.follows = bool(opts["rerandomize"]) and source is not None

    @property
    def active(self):
        return self.schedule is not None or self.rerandomizer is not None or self.follows

    def before_step(self, step):
        if self.schedule is not None:
            self.schedule.before_step(step)
        if self.rerandomizer is not None:  # after the schedule: it redraws what the step's mask prunes
            self.rerandomizer.before_step(step)

    def after_step(self):
        if self.follows:
            copy_redrawn(self.source, self.module)
