"""The evaluation metric of the digits reproduction: an FID on the features of a network that is NOT the loss's
extractor, plus the class histogram of the generated images under that network.

The moment-matching loss uses studiogan_slt.metrics.digits_net (VGG-style 3x3 convs with BatchNorm and max pooling,
RGB in [-1, 1], seed 0). Scoring with the network the generator was fitted to would reward fitting that network's
statistics rather than producing digits, so this one differs in every respect that is cheap to change: LeNet-style
5x5 convolutions, ELU, average pooling, no BatchNorm, dropout, grayscale input in [0, 1] and seed 1234. Its 64
penultimate activations are the features. The reference is the digits valid split (296 images); the generated set
must be the same size (the first 296 images in file-name order are used), because FID is biased by sample size.

Two more networks, "strided" and "mlp" (NETWORKS), check that a verdict does not depend on the network that scores
it.

torch (and digits_net, which imports it) is imported inside the functions that use it: the CLI imports this module
for NETWORKS when it starts, and `studiogan-slt --help` imports no torch.
"""
import pickle
import time
from pathlib import Path

import numpy as np

from studiogan_slt import atomic
from studiogan_slt.cache import cache_dir
from studiogan_slt.data.digits import digits_arrays
from studiogan_slt.errors import SLTError

EPOCHS = 30
FEATURES = 64
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def _lenet():
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(1, 16, 5), nn.ELU(), nn.AvgPool2d(2),  # 32 -> 28 -> 14
        nn.Conv2d(16, 32, 5), nn.ELU(), nn.AvgPool2d(2),  # 14 -> 10 -> 5
        nn.Flatten(), nn.Dropout(0.3), nn.Linear(32 * 5 * 5, 128), nn.ELU(),
        nn.Dropout(0.3), nn.Linear(128, FEATURES), nn.ELU(),  # the features: output of this ELU
        nn.Linear(FEATURES, 10))


def _strided():
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(1, 24, 3, stride=2, padding=1), nn.GroupNorm(4, 24), nn.SiLU(),  # 32 -> 16
        nn.Conv2d(24, 48, 3, stride=2, padding=1), nn.GroupNorm(4, 48), nn.SiLU(),  # 16 -> 8
        nn.Conv2d(48, 64, 3, stride=2, padding=1), nn.SiLU(),  # 8 -> 4
        nn.Flatten(), nn.Dropout(0.3), nn.Linear(64 * 4 * 4, FEATURES), nn.SiLU(),  # the features
        nn.Linear(FEATURES, 10))


def _mlp():
    from torch import nn

    return nn.Sequential(
        nn.Flatten(), nn.Linear(32 * 32, 256), nn.Tanh(), nn.Dropout(0.3),
        nn.Linear(256, FEATURES), nn.Tanh(),  # the features
        nn.Linear(FEATURES, 10))


# name: (builder, seed, version). A verdict must not hang on one network's quirks, so the second one differs from
# the first in everything cheap to change (3x3 strided convolutions, GroupNorm, SiLU, no pooling, another seed),
# and the third has no convolution at all (every pixel weighed by its place, tanh, another seed); all differ from
# the loss's extractor (digits_net). The version is part of the cache file's name: change it when the network or its
# training changes.
NETWORKS = {"lenet": (_lenet, 1234, "lenet-elu-v1"), "strided": (_strided, 4321, "strided-silu-v1"),
            "mlp": (_mlp, 2468, "mlp-tanh-v1")}
DEFAULT_NETWORK = "lenet"


def build(name=DEFAULT_NETWORK):
    """An untrained evaluation network; `eval_network` names it in the results."""
    net = NETWORKS[name][0]()
    net.eval_network = NETWORKS[name][2]
    return net


def _as_input(images_uint8):
    import torch

    x = torch.from_numpy(np.ascontiguousarray(images_uint8)).float().div(255.0)
    return x.mean(dim=-1).unsqueeze(1)  # [N, 1, H, W], gray


def default_cache_path(name=DEFAULT_NETWORK):
    _, seed, version = NETWORKS[name]
    return cache_dir() / f"digits_eval_{version}_seed{seed}_ep{EPOCHS}.pt"


def train_eval_net(path, *, name=DEFAULT_NETWORK, epochs=EPOCHS, log=None):
    """Train the evaluation network `name` on the digits train split and save its state_dict to `path`."""
    import torch
    import torch.nn.functional as F

    from studiogan_slt.metrics.digits_net import seeded_order_generator  # loads torch (module docstring)

    start = time.time()
    gen = seeded_order_generator(NETWORKS[name][1])
    x, y = digits_arrays("train")
    x, y = _as_input(x), torch.from_numpy(y)
    net = build(name)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    for epoch in range(epochs):
        net.train()
        order = torch.randperm(len(x), generator=gen)
        for i in range(0, len(order), 32):
            idx = order[i:i + 32]
            loss = F.cross_entropy(net(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    xv, yv = digits_arrays("valid")
    accuracy = float((predict(net.eval(), xv)[1] == yv).mean())
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic.replacing(path) as tmp:  # a concurrent reader never sees half a file
        atomic.torch_save(net.state_dict(), tmp)
    if log:
        log(f"trained the digits evaluation network {name!r} in {time.time() - start:.0f} s: valid accuracy "
            f"{accuracy:.4f}")
    return accuracy


def load_eval_net(path=None, log=None, name=DEFAULT_NETWORK):
    """The evaluation network `name` from `path` (default: the user cache), trained and cached on first use."""
    import torch

    if name not in NETWORKS:
        raise SLTError(f"{name!r}: no such digits evaluation network; use one of {', '.join(NETWORKS)}")
    path = Path(path) if path else default_cache_path(name)
    if not path.is_file():
        train_eval_net(path, name=name, log=log)
    net = build(name)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, EOFError, RuntimeError, pickle.UnpicklingError) as e:
        # torch's own message for a garbage file is a paragraph about weights_only; the type says enough
        raise SLTError(f"{path}: not a digits evaluation network (not a readable state_dict: "
                       f"{type(e).__name__}); delete it to retrain") from None
    try:
        net.load_state_dict(state)
    except (RuntimeError, TypeError, ValueError) as e:
        raise SLTError(f"{path}: not the digits evaluation network {name!r} ({str(e).strip().splitlines()[0]}); "
                       "delete it to retrain") from None
    return net.eval()


def predict(net, images_uint8, batch_size=256):
    """(features float64 [N, 64], predicted class [N]) for uint8 images [N, 32, 32, C]."""
    import torch

    shape = tuple(np.shape(images_uint8))
    if len(shape) != 4 or shape[1:3] != (32, 32) or shape[3] not in (1, 3):
        # e.g. a ticket of a 64x64 generator: the network would fail deep inside a convolution
        raise SLTError(f"the digits metric scores 32x32 images with 1 or 3 channels, got images of shape "
                       f"{shape[1:]} (N, H, W, C): it measures generators of the built-in digits only")

    feats, classes = [], []
    body, head = net[:-1], net[-1]
    with torch.no_grad():
        for i in range(0, len(images_uint8), batch_size):
            f = body(_as_input(images_uint8[i:i + batch_size]))
            feats.append(f.double().numpy())
            classes.append(head(f).argmax(1).numpy())
    return np.concatenate(feats), np.concatenate(classes)


def frechet_distance(mu1, sigma1, mu2, sigma2, eps=1e-6):
    """||mu1 - mu2||^2 + Tr(S1 + S2 - 2 sqrt(S1 S2)), with the usual eps*I fallback for a singular product."""
    import warnings

    from scipy import linalg

    diff = mu1 - mu2
    with warnings.catch_warnings():
        # A singular product (e.g. constant images) makes sqrtm warn; the eps offset below is the standard remedy.
        warnings.simplefilter("error", linalg.LinAlgWarning)
        try:
            covmean = linalg.sqrtm(sigma1 @ sigma2)
        except linalg.LinAlgWarning:
            covmean = np.full(sigma1.shape, np.nan)
    if not np.isfinite(covmean).all():
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    covmean = np.real(covmean)  # sqrtm of a product of PSD matrices: imaginary parts are round-off
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean))


def moments(features):
    return features.mean(axis=0), np.cov(features, rowvar=False)


def evaluate(images_uint8, net=None, reference=None, reference_features=None):
    """{"fid", "hist", "hist_tv", "num_fake", "num_real", ...} of uint8 images [N, 32, 32, C] against the valid
    split (or `reference` uint8 images, or `reference_features`: predict()'s pair for them). N must equal the
    reference size."""
    net = net if net is not None else load_eval_net()
    if reference_features is None:
        reference_features = predict(net, reference if reference is not None else digits_arrays("valid")[0])
    real_feats, real_classes = reference_features
    if len(images_uint8) != len(real_feats):
        raise SLTError(f"{len(images_uint8)} generated images for {len(real_feats)} reference images; the metric "
                       "uses the same number of each")
    fake_feats, fake_classes = predict(net, images_uint8)
    fid = frechet_distance(*moments(fake_feats), *moments(real_feats))
    hist = np.bincount(fake_classes, minlength=10)
    real_hist = np.bincount(real_classes, minlength=10)
    tv = 0.5 * float(np.abs(hist / hist.sum() - real_hist / real_hist.sum()).sum())
    return {"fid": fid, "hist": hist.tolist(), "reference_hist": real_hist.tolist(), "hist_tv": tv,
            "classes_covered": int((hist > 0).sum()), "num_fake": int(len(images_uint8)),
            "num_real": int(len(real_feats)),
            "network": getattr(net, "eval_network", None), "features": FEATURES}


def _generation_order(path):
    # StudioGAN's -sf writes fake/<class>/<global index>.png: numeric names first, by number, so that taking the
    # first `count` files does not favour the low class folders of a conditional generator.
    return (0, int(path.stem), str(path)) if path.stem.isdigit() else (1, 0, str(path))


def load_images(folder, count=None, minimum=None):
    """uint8 [N, 32, 32, 3] from the image files under `folder` (recursively, numeric file names in numeric order
    first, as StudioGAN's -sf and `studiogan-slt sample` number them); the first `count` of them, of which at least
    `minimum` (default: all `count`) must exist."""
    from PIL import Image

    folder = Path(folder)
    if not folder.is_dir():
        raise SLTError(f"{folder}: no such folder of images")
    files = sorted((p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES), key=_generation_order)
    if count is not None:
        needed = count if minimum is None else minimum
        if len(files) < needed:
            raise SLTError(f"{folder}: {len(files)} images, the metric needs at least {needed} (the size of the "
                           "digits valid split)")
        files = files[:count]
    images = []
    for p in files:
        try:
            with Image.open(p) as im:
                # the size is in the file's header: a 20000x20000 image is refused before any pixel is decoded
                if im.size != (32, 32):
                    raise SLTError(f"{p}: {im.size[0]}x{im.size[1]} pixels; the digits metric needs 32x32 images")
                images.append(np.asarray(im.convert("RGB")))
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
            raise SLTError(f"{p}: not a readable image ({str(e).splitlines()[0][:200] if str(e) else type(e).__name__})"
                           ) from None
    return np.stack(images) if images else np.zeros((0, 32, 32, 3), np.uint8)
