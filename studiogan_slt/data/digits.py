"""A real image data set that needs no download: scikit-learn's 1,797 handwritten digits (8x8, 10 classes).

Images are upsampled to 32x32 RGB so that StudioGAN's CIFAR-sized architectures run on them unchanged. The split is
fixed (one sixth of every class goes to `valid`, chosen with a seeded permutation) so that every example, test and
reproduction sees the same images.
"""
import numpy as np

from studiogan_slt import atomic
from studiogan_slt.cache import cache_dir

IMG_SIZE = 32
NUM_CLASSES = 10
_SPLIT_SEED = 0
_VALID_FRACTION = 6  # one in six of each class
VERSION = "v1"  # part of the cached folder's name: change it when the images or the split change


def _split_indices(labels):
    rng = np.random.default_rng(_SPLIT_SEED)
    train, valid = [], []
    for c in range(NUM_CLASSES):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_valid = len(idx) // _VALID_FRACTION
        valid.append(idx[:n_valid])
        train.append(idx[n_valid:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(valid))


def digits_arrays(split):
    """Return (images uint8 [N, 32, 32, 3], labels int64 [N]) for split "train" or "valid"."""
    if split not in ("train", "valid"):
        raise ValueError(f"split must be 'train' or 'valid', got {split!r}")
    import torch
    import torch.nn.functional as F
    from sklearn.datasets import load_digits

    data = load_digits()
    labels = data.target.astype(np.int64)
    train_idx, valid_idx = _split_indices(labels)
    idx = train_idx if split == "train" else valid_idx
    small = torch.from_numpy(data.images[idx].astype(np.float32) / 16.0).unsqueeze(1)  # [N,1,8,8] in [0,1]
    big = F.interpolate(small, size=(IMG_SIZE, IMG_SIZE), mode="bilinear", align_corners=False)
    gray = (big.clamp(0, 1) * 255).round().to(torch.uint8).squeeze(1).numpy()
    return np.repeat(gray[..., None], 3, axis=-1), labels[idx]


def write_digits(out_dir):
    """Write an ImageFolder tree out_dir/{train,valid}/<class>/<index>.png; returns the image count per split."""
    from PIL import Image

    atomic.check_new_folder(out_dir)
    counts = {}
    with atomic.new_folder(out_dir) as out:
        for split in ("train", "valid"):
            images, labels = digits_arrays(split)
            for c in range(NUM_CLASSES):
                (out / split / str(c)).mkdir(parents=True)
            for i, (img, label) in enumerate(zip(images, labels)):
                Image.fromarray(img).save(out / split / str(label) / f"{i:04d}.png", format="PNG")
            counts[split] = len(labels)
    return counts


def cached(log=print):
    """The data set in the user cache (what `train` uses on DIGITS when -data is omitted), written on first use."""
    folder = cache_dir() / f"digits-{IMG_SIZE}px-{VERSION}"
    if not (folder / "valid").is_dir():
        folder.parent.mkdir(parents=True, exist_ok=True)
        log(f"writing the built-in digits data set to {folder} (once)")
        try:
            write_digits(folder)
        except OSError:
            if not (folder / "valid").is_dir():  # else a concurrent first run wrote it first
                raise
    return folder
