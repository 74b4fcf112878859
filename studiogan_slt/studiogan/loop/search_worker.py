"""StudioGAN's WORKER with the SLT training modes; installed as `loader.WORKER` by hooks.install.

Imported only after locate.activate() put StudioGAN's src/ on sys.path: `worker` below is StudioGAN's worker.py.
"""
import os

import torch

import utils.misc as misc  # StudioGAN's src/utils/misc.py
import worker as studiogan_worker  # StudioGAN's src/worker.py

from studiogan_slt.digests import tensor_digest
from studiogan_slt.studiogan import run_files
from studiogan_slt.studiogan.loop import digits_selection, moment_mode, resume, stopping, updates
from studiogan_slt.studiogan.loop.progress import Progress
from studiogan_slt.studiogan.rebuild.builder import sampler_spec
from studiogan_slt.studiogan.section.values import MOMENT_MODES, masks_generator, moment_step
from studiogan_slt.supermask import diagnostics
from studiogan_slt.supermask.convert import materialize
from studiogan_slt.supermask.search import Levers


class SLTWorker(studiogan_worker.WORKER):
    """Adversarial mode is StudioGAN's own step (the optimizers see only scores). The moment-matching modes have no
    discriminator step; their generator step lives in loop/moment_mode.py."""

    _moment_step = None
    _search_monitor = None
    _digits_selection = None
    _train_state = None
    _levers = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._progress = Progress()
        # loader.py builds the worker after the models and any checkpoint are loaded: the masks now are those the
        # first diagnostics compare against. Only rank 0 logs (loader.py:400).
        if self.RUN.train and self.global_rank == 0:
            for line in getattr(self.cfgs, "slt_search_changes", ()):
                self.logger.info(line)
            self._search_monitor = diagnostics.SearchMonitor()
            for name, model in self._diagnosed_networks():
                self._search_monitor.start(name, model)
        if self.RUN.train and self.global_rank == 0 and self.cfgs.SLT.digits_metric is not None:
            path = run_files.statistics_file(self.RUN.save_dir, self.run_name, digits_selection.FILE_NAME)
            self._digits_selection = digits_selection.DigitsSelection(
                self.cfgs.SLT.digits_metric, path,
                sampler_spec({"MODEL": vars(self.MODEL), "DATA": vars(self.DATA)}), log=self.logger.info,
                network=self.cfgs.SLT.digits_network)

    def _diagnosed_networks(self):
        return [(name, misc.peel_model(model)) for name, model in (("G", self.Gen), ("G_ema", self.Gen_ema),
                                                                    ("D", self.Dis)) if model is not None]

    def log_train_statistics(self, current_step, real_cond_loss, gen_acml_loss, dis_acml_loss):
        super().log_train_statistics(current_step, real_cond_loss, gen_acml_loss, dis_acml_loss)
        self.logger.info(self._progress.line(current_step + 1, updates(self.OPTIMIZATION)))
        if self._moment_step is not None and not self._moment_mode():
            self.logger.info(f"moment loss added to the adversarial loss with weight "
                             f"{self._moment_step.options['weight']:g}: moment distance "
                             f"{self._moment_step.distance.item():.4g}")
        if self._search_monitor is None:
            return
        path = run_files.statistics_file(self.RUN.save_dir, self.run_name, diagnostics.FILE_NAME)
        models = dict(self._diagnosed_networks())
        for name in self._search_monitor.networks:
            row = self._search_monitor.look(current_step + 1, name, models[name])
            self.logger.info(diagnostics.format_row(row))
            diagnostics.append_row(path, row)

    def _moment_mode(self):
        return self.cfgs.SLT.train_mode in MOMENT_MODES

    def prepare_train_iter(self, epoch_counter):
        """Called once, right before the loop's first step (loader.py:389): restore the resume state here."""
        if moment_step(vars(self.cfgs.SLT)):
            # Built now rather than at the first step: its extractor's init draws from torch's generator, which the
            # resume state restores below.
            self._moment_step = _moment_step(self)
        self._train_state = resume.TrainState(self)
        saved = self._saved_train_state()
        if saved is not None:
            self._train_state.restore_data(saved)
        super().prepare_train_iter(epoch_counter)
        self._train_state.restore_generators()
        stopping.loop_started()

    def _saved_train_state(self):
        folder, when = self.RUN.ckpt_dir, run_files.when(self.RUN.load_best)
        if not folder or self.RUN.freezeD != -1:  # -freezeD starts a new run from another run's D
            return None
        found = run_files.files(folder, when, run_files.MARK)
        if not found:
            return None
        path = found[max(found)]
        if self.logger is not None:
            self.logger.info(f"SLT: resuming the generators and the data position from {os.path.basename(path)}")
        return run_files.load(path, ("generators", "sampler"))

    def sample_data_basket(self):
        epoch = self.epoch_counter
        images, labels = super().sample_data_basket()
        if self._train_state is not None:
            self._train_state.count(new_epoch=self.epoch_counter != epoch)
            images = self._train_state.flipped(images)
        return images, labels

    def _search_levers(self):
        """supermask.search.Levers of every converted network (k_schedule, rerandomize); G_ema follows G."""
        if self._levers is None:
            slt, found = self.cfgs.SLT, []
            if masks_generator(vars(slt)) and "G" in slt.targets:
                G = misc.peel_model(self.Gen)
                found.append(Levers(G))
                if self.Gen_ema is not None:
                    found.append(Levers(misc.peel_model(self.Gen_ema), source=G))
            if masks_generator(vars(slt)) and "D" in slt.targets:
                found.append(Levers(misc.peel_model(self.Dis)))
            self._levers = [levers for levers in found if levers.active]
        return self._levers

    def _before_step(self, step):
        # Both the D and the G step call this (either may come first, OPTIMIZATION.d_first); it is idempotent.
        for levers in self._search_levers():
            levers.before_step(step)

    def train_discriminator(self, current_step):
        self._before_step(current_step)
        if self._moment_mode():
            # The pair StudioGAN's loop expects (loader.py:391); log_train_statistics calls .item() on the loss.
            losses = "N/A", torch.zeros((), device=self.local_rank)
        else:
            losses = super().train_discriminator(current_step)
        if not self.OPTIMIZATION.d_first:
            self._after_the_step(current_step)
        return losses

    def train_generator(self, current_step):
        self._before_step(current_step)
        if self._moment_mode():
            loss = self._moment_step.train_generator(current_step)
        else:
            loss = super().train_generator(current_step)  # with the moment loss added, if any: its optimizer hook
        for levers in self._search_levers():
            levers.after_step()  # after the EMA update
        # The loop saves right after this step (loader.py:411); check the ranks still agree before it does.
        if self.DDP and (current_step + 1) % self.RUN.save_freq == 0:
            self._check_ranks_agree(current_step + 1)
        if self.OPTIMIZATION.d_first:
            self._after_the_step(current_step)
        return loss

    def _after_the_step(self, current_step):
        """Save where the loop will not, and stop when SIGTERM asked to (loop/stopping.py). StudioGAN saves only at
        multiples of save_freq (loader.py:414), so a run of fewer steps, or one ending between two, would leave no
        checkpoint of its final state. Called by the second of the step's two updates (OPTIMIZATION.d_first orders
        them)."""
        step = current_step + 1
        last = step == updates(self.OPTIMIZATION) and step % self.RUN.save_freq
        if (last or stopping.asked()) and self.global_rank == 0:
            self.save(step=step, is_best=False)
        if stopping.asked():
            stopping.stop()

    def save(self, step, is_best):
        if self._digits_selection is not None:
            # The network StudioGAN samples and evaluates (worker.py uses G_ema when the run keeps one).
            evaluated = self.Gen_ema if self.MODEL.apply_g_ema else self.Gen
            is_best, line = self._digits_selection.at_save(misc.peel_model(evaluated), step)
            self.logger.info(line)
        super().save(step, is_best)
        if self.global_rank != 0:
            return
        # As worker.py:965-975 does for G, D and G_ema: a best save also rewrites "current".
        whens = (run_files.BEST, run_files.CURRENT) if is_best is True else (run_files.CURRENT,)
        if self._moment_step is not None:
            state = self._moment_step.state_dict()
            for when in whens:
                misc.save_model(model=run_files.MOMENTS, when=when, step=step, ckpt_dir=self.RUN.ckpt_dir, states=state)
        for when in whens:
            run_files.commit(self.RUN.ckpt_dir, when, step, self._train_state.state_dict())

    def _check_ranks_agree(self, step):
        """DDP must leave every rank with the same network. Gather digests of G's trainable tensors (the scores of
        an SLT run) and of its effective weights (frozen * mask) from every rank and log them, so a divergence is
        visible in the run log."""
        G = misc.peel_model(self.Gen)
        mine = (tensor_digest(G.named_parameters()), tensor_digest(materialize(G).named_parameters()))
        gathered = [None] * self.OPTIMIZATION.world_size
        torch.distributed.all_gather_object(gathered, mine, group=self.group)
        if self.global_rank == 0:
            same = len(set(gathered)) == 1
            log = self.logger.info if same else self.logger.error
            log(f"DDP check at step {step}: G trainable-tensor digests per rank {[g[0] for g in gathered]}, "
                f"effective-weight digests per rank {[g[1] for g in gathered]} "
                f"({'identical' if same else 'DIFFERENT'})")


def _moment_step(worker):
    return moment_mode.MomentMatchingStep(worker)
