"""What a StudioGAN checkpoint lacks for an exact resume: the random number generators and the data position.

StudioGAN saves models, optimizers, the step and the epoch, but on resume it reseeds every generator from the seed
(loader.py:99) and starts a fresh shuffle (loader.py:187-195, worker.py:188-204): the resumed run draws other
latents and other batches than the uninterrupted one would have. The plugin saves, at every checkpoint, the state
of torch's (CPU and CUDA), numpy's and Python's global generators and the position in the epoch's shuffle, as
model=RESUME-<when>-weights-step=N.pth next to StudioGAN's files (durable.commit writes it last), and restores it
right before the loop's first step. The shuffle itself comes from a sampler with its own generator (RandomSampler's
order, restartable mid-epoch), so restoring it does not depend on how much of the global stream the run used.

StudioGAN's random horizontal flip (PRE.apply_rflip, on by default) runs in the DataLoader's persistent worker
processes, whose generators no checkpoint records: a resumed worker starts its stream afresh. So the flip moves out
of the data set's transforms onto each basket in the main process, drawn from torch's global generator, which the
resume state holds; the images are the same distribution (the flip is the last geometric transform, and Normalize is
per channel).

Not covered: -DDP runs (DistributedSampler, per-rank generators).
"""
import random

import numpy as np
import torch
from torch.utils.data import Sampler
from torchvision.transforms import Compose, RandomHorizontalFlip

FORMAT = 1


class ResumableSampler(Sampler):
    """A permutation per epoch drawn from its own generator, like RandomSampler with a generator; `start_at` skips
    the indices of the baskets an interrupted epoch had already used."""

    def __init__(self, size, seed):
        self.size = size
        self.generator = torch.Generator().manual_seed(seed)
        self.epoch_state = self.generator.get_state()
        self.skip = 0

    def __len__(self):
        return self.size

    def __iter__(self):
        self.epoch_state = self.generator.get_state()
        order = torch.randperm(self.size, generator=self.generator).tolist()
        skip, self.skip = self.skip, 0
        yield from order[skip:]


class TrainState:
    """The worker's data position and the global generators; `attach` before the first step, `count` after each
    basket, `state_dict` at each save."""

    def __init__(self, worker):
        self.worker = worker
        loader = worker.train_dataloader
        self.sampler = None
        self.flip = None
        if not worker.DDP:
            # A DataLoader refuses a new sampler once built, but its BatchSampler reads the sampler attribute anew
            # at every epoch.
            self.sampler = ResumableSampler(len(loader.dataset), worker.RUN.seed)
            loader.batch_sampler.sampler = self.sampler
            # before the first iter(), which forks the persistent workers with the data set as it is then
            self.flip = _take_flip(loader.dataset)
        self.basket = loader.batch_sampler.batch_size
        self.position = 0
        self.saved = None

    def restore_data(self, state):
        """Before the first iter(): continue the saved epoch's shuffle where it stopped."""
        self.saved = state
        if self.sampler is not None and state["sampler"] is not None:
            self.sampler.generator.set_state(state["sampler"]["epoch_state"])
            self.position = state["sampler"]["position"]
            self.sampler.skip = self.position * self.basket

    def restore_generators(self):
        """After the first iter() (which draws the DataLoader's base seed from torch's generator)."""
        if self.saved is None:
            return
        g = self.saved["generators"]
        torch.set_rng_state(g["torch"])
        if torch.cuda.is_available() and g["cuda"]:
            torch.cuda.set_rng_state_all(g["cuda"])
        np.random.set_state(("MT19937", g["numpy"]["key"].numpy().astype(np.uint32), g["numpy"]["pos"],
                             g["numpy"]["has_gauss"], g["numpy"]["gauss"]))
        random.setstate((g["python"][0], tuple(g["python"][1]), g["python"][2]))

    def flipped(self, images):
        """The basket's images (a tuple of batches), each mirrored with the probability of the flip taken out."""
        if self.flip is None:
            return images
        return tuple(torch.where((torch.rand(len(batch)) < self.flip).view(-1, *[1] * (batch.dim() - 1)),
                                 batch.flip(-1), batch) for batch in images)

    def count(self, new_epoch):
        self.position = 1 if new_epoch else self.position + 1

    def state_dict(self):
        _, key, pos, has_gauss, gauss = np.random.get_state()
        version, internal, gauss_next = random.getstate()
        return {"format": FORMAT, "epoch": self.worker.epoch_counter,
                "sampler": None if self.sampler is None else {"epoch_state": self.sampler.epoch_state,
                                                              "position": self.position},
                "generators": {"torch": torch.get_rng_state(),
                               "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
                               "numpy": {"key": torch.from_numpy(key.astype(np.int64)), "pos": int(pos),
                                         "has_gauss": int(has_gauss), "gauss": float(gauss)},
                               "python": [version, list(internal), gauss_next]}}


def _take_flip(dataset):
    """Remove StudioGAN's RandomHorizontalFlip from `dataset`'s transforms (data_util.py:89-90); its probability, or
    None where there is none."""
    transforms = getattr(getattr(dataset, "trsf", None), "transforms", [])
    flips = [t for t in transforms if isinstance(t, RandomHorizontalFlip)]
    if not flips:
        return None
    dataset.trsf = Compose([t for t in transforms if not isinstance(t, RandomHorizontalFlip)])
    return flips[0].p
