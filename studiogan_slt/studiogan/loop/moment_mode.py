"""The moment-matching training modes inside StudioGAN's loop (SLT.train_mode moment_matching / dense_moment_matching),
and the moment loss added to the adversarial one (train_mode adversarial with `moments.weight`).

The WORKER subclass builds one MomentMatchingStep and calls its train_generator(step) instead of StudioGAN's; no
discriminator step runs. The step's own state (AMA vectors and their Adam, the schedule) is saved next to StudioGAN's
checkpoints as model=MM-<when>-weights-step=N.pth and restored when a run resumes. The step mirrors worker.py's train_generator (train_generator, worker.py:502-681): same
toggles, `sample.generate_images` with the same arguments, g_optimizer step, then the G_ema update. Only the loss
differs: GFMN moment matching on a frozen extractor (studiogan_slt.moments.loss). The logged gen_loss is the
moment distance MSE(μ) + MSE(σ²) of the step's batch, which is comparable across steps and modes (the AMA loss
value is not: it is a dot product with vectors that keep moving).
Its options (`SLT.moments`) are validated with the section (section/moments.py).
"""
import hashlib
import itertools
import math
import os
from contextlib import contextmanager

import torch

from studiogan_slt.errors import SLTError
from studiogan_slt.moments.extractors import FeatureExtractor
from studiogan_slt.moments.loss import MomentMatchingLoss, real_statistics
from studiogan_slt.studiogan import run_files
from studiogan_slt.studiogan.loop import updates
from studiogan_slt.studiogan.section.moments import validate

QUIRK_T_MAX = 10


def _files_fingerprint(dataset):
    """sha256 over (relative path, label, size) of an ImageFolder's files: a changed data folder misses the cache."""
    samples = getattr(getattr(dataset, "data", None), "samples", None)
    root = getattr(getattr(dataset, "data", None), "root", "")
    h = hashlib.sha256()
    if samples is not None:
        for path, label in samples:
            h.update(f"{os.path.relpath(path, root)}|{label}|{os.path.getsize(path)}\n".encode())
    elif getattr(dataset, "hdf5_path", None):
        st = os.stat(dataset.hdf5_path)
        h.update(f"{os.path.abspath(dataset.hdf5_path)}|{st.st_size}|{st.st_mtime_ns}".encode())
    return h.hexdigest()


class MomentMatchingStep:
    """One generator update of the moment-matching modes, built once per run from the StudioGAN worker."""

    def __init__(self, worker):
        self.worker = worker
        if worker.RUN.mixed_precision:
            raise SLTError("-mpc (mixed precision) is not supported with the moment-matching train modes")
        self.options = validate(dict(getattr(worker.cfgs.SLT, "moments", None) or {}))
        self.device = next(itertools.chain(worker.Gen.parameters(), worker.Gen.buffers())).device
        self.extractor = FeatureExtractor(self.options["extractors"], bn_mode=self.options["bn_mode"]).to(self.device)
        self.batch_size = self.options["stats_batch_size"] or worker.OPTIMIZATION.batch_size
        dataset = worker.train_dataloader.dataset
        stats = real_statistics(self.extractor, self._real_batches(dataset), key=self._cache_key(dataset),
                                cache_dir=self.options["cache_dir"] or os.path.join(worker.RUN.save_dir, "moments"),
                                device=self.device, log=self._log)
        self.loss = MomentMatchingLoss(stats.mean, stats.var, ama=self.options["ama"], ama_lr=self.options["ama_lr"],
                                       ama_betas=self.options["ama_betas"], ama_init=self.options["ama_init"])
        self._log(f"moment matching: {stats.mean.numel()} features from "
                  f"{', '.join(t for net in self.extractor.nets for t in net.tapped_layers)}; AMA "
                  f"{'on' if self.options['ama'] else 'off'}; extractor BatchNorm in {self.options['bn_mode']} mode")
        self.schedulers = self._schedulers(worker.OPTIMIZATION)
        self._resume(worker)
        # Optimizer hooks, so that StudioGAN's own adversarial step (any number of G updates per step) gets the
        # moment gradient and the schedule without a copy of its train_generator; the MM step uses the same ones.
        g_optimizer = worker.OPTIMIZATION.g_optimizer
        if self.options["weight"] is not None:
            g_optimizer.register_step_pre_hook(self._add_moment_gradient)
        g_optimizer.register_step_post_hook(self._step_schedule)

    def _add_moment_gradient(self, optimizer, args, kwargs):
        self.backward(self.options["weight"])  # a pre hook returns None: the step's arguments stay as they are

    def _step_schedule(self, optimizer, args, kwargs):
        for scheduler in self.schedulers:
            scheduler.step()

    def _schedulers(self, OPTIMIZATION):
        schedule = self.options["lr_schedule"]
        if schedule == "cosine":
            # A lambda of the step, not torch's recursive CosineAnnealingLR, so that a resumed run with a new
            # total_steps follows the new curve.
            span = updates(OPTIMIZATION)
            return [torch.optim.lr_scheduler.LambdaLR(
                OPTIMIZATION.g_optimizer, lambda step: 0.5 * (1.0 + math.cos(math.pi * min(step, span) / span)))]
        if schedule == "cosine_quirk":
            optimizers = [OPTIMIZATION.g_optimizer] + ([self.loss.ama_optimizer] if self.loss.ama else [])
            return [torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=QUIRK_T_MAX, eta_min=0) for o in optimizers]
        return []

    def _resume(self, worker):
        """StudioGAN restored G, D and their optimizers from -ckpt before this step was built (loader.py:233-261);
        restore the step's own state from the same folder. A fresh run's folder holds no G checkpoint yet."""
        folder = worker.RUN.ckpt_dir
        when = run_files.when(worker.RUN.load_best)
        if not folder or not run_files.find(folder, "G", when):
            return
        found = run_files.find(folder, run_files.MOMENTS, when)
        if not found:
            self._log(f"moment matching: {folder} has no model={run_files.MOMENTS}-{when}-* file (a checkpoint from an "
                      "older studiogan-slt); AMA and the learning-rate schedule start afresh")
            return
        self.load_state_dict(torch.load(found[0], map_location=self.device, weights_only=True))
        self._log(f"moment matching: resumed AMA and schedule from {os.path.basename(found[0])}")

    def _log(self, message):
        if self.worker.global_rank == 0 and self.worker.logger is not None:
            self.worker.logger.info(message)

    def _cache_key(self, dataset):
        w = self.worker
        return {"dataset": w.DATA.name, "data_dir": os.path.abspath(w.RUN.data_dir), "split": "train",
                "images": len(dataset), "files": _files_fingerprint(dataset), "img_size": w.DATA.img_size,
                "transform": repr(getattr(dataset, "trsf", None)), **self.extractor.identity(),
                # With BatchNorm in train mode the features depend on the batch size.
                "batch_size": self.batch_size if self.options["bn_mode"] == "train" else None, "order": "shuffled"}

    def _real_batches(self, dataset):
        # Shuffled: an ImageFolder lists its images class by class, and with the extractor's BatchNorm in train mode
        # one-class batches give other statistics than the mixed batches the generator is scored on. Seeded, so
        # that the order and random flips (PRE.apply_rflip) are the same on every rank and every rerun.
        loader = torch.utils.data.DataLoader(dataset, batch_size=self.batch_size, shuffle=True, drop_last=False,
                                             num_workers=self.worker.RUN.num_workers,
                                             generator=torch.Generator().manual_seed(0))
        with _seeded(0):
            yield from loader

    def backward(self, weight=1.0):
        """Adds `weight` times the moment loss's gradient of OPTIMIZATION.acml_steps fresh batches to G's .grad;
        returns the last batch's moment distance (the logged gen_loss of the moment-matching modes)."""
        from utils import sample  # StudioGAN's, importable inside its process

        w = self.worker
        for _ in range(w.OPTIMIZATION.acml_steps):
            fake_images = sample.generate_images(
                z_prior=w.MODEL.z_prior, truncation_factor=-1.0, batch_size=w.OPTIMIZATION.batch_size,
                z_dim=w.MODEL.z_dim, num_classes=w.DATA.num_classes, y_sampler="totally_random",
                radius=w.LOSS.radius, generator=w.Gen, discriminator=w.Dis, is_train=True, LOSS=w.LOSS,
                RUN=w.RUN, MODEL=w.MODEL, device=w.local_rank, generator_mapping=w.Gen_mapping,
                generator_synthesis=w.Gen_synthesis, is_stylegan=w.is_stylegan,
                style_mixing_p=w.cfgs.STYLEGAN.style_mixing_p, stylegan_update_emas=False,
                cal_trsp_cost=bool(w.LOSS.apply_lo))[0]
            result = self.loss(self.extractor(fake_images))
            (weight * result.loss / w.OPTIMIZATION.acml_steps).backward()
        self.distance = result.distance
        return result.distance

    def train_generator(self, current_step):
        from utils import misc  # StudioGAN's, importable inside its process

        w = self.worker
        misc.make_GAN_trainable(w.Gen, w.Gen_ema, w.Dis)
        misc.toggle_grad(model=w.Gen, grad=True, num_freeze_layers=-1, is_stylegan=w.is_stylegan)
        w.Gen.apply(misc.track_bn_statistics)
        for _ in range(w.OPTIMIZATION.g_updates_per_step):
            w.OPTIMIZATION.g_optimizer.zero_grad()
            distance = self.backward()
            w.OPTIMIZATION.g_optimizer.step()  # the post hook steps the schedule
            if w.MODEL.apply_g_ema:
                w.ema.update(current_step)
        return distance

    def state_dict(self):
        """AMA vectors with their Adam state, and the lr schedulers; save next to the G checkpoint."""
        return {"ama": self.loss.ama_state_dict(), "schedulers": [s.state_dict() for s in self.schedulers]}

    def load_state_dict(self, state):
        self.loss.load_ama_state_dict(state["ama"])
        for scheduler, s in zip(self.schedulers, state["schedulers"]):
            scheduler.load_state_dict(s)
            # building a scheduler reset its optimizer's lr to the base lr, and loading one's state leaves the lr
            # alone: without this, the first update after a resume would run at the base lr
            for group, lr in zip(scheduler.optimizer.param_groups, scheduler.get_last_lr()):
                group["lr"] = lr


@contextmanager
def _seeded(seed):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield
