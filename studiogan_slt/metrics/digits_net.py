"""A small VGG-style digits classifier: the offline stand-in for the paper's ImageNet VGG19-BN feature extractor.

ImageNet weights cannot be downloaded here, and features of a network trained on the data's own classes are what
GFMN's CIFAR experiments used. The network follows VGG-BN's layout (`features` = conv-BN-ReLU blocks with max
pooling, then `classifier`), so the default taps (every conv-trunk ReLU) are its 5 ReLUs: 106,496 features at
32x32. It reads images as StudioGAN's loader gives them (RGB in [-1, 1]), so the extractor's mean/std stay at their
0.5/0.5 default. Saved as a plain state_dict, i.e. the user-network form
{"network": "studiogan_slt.metrics.digits_net:digits_cnn", "weights": PATH}.
"""
import time

import torch
import torch.nn.functional as F
from torch import nn

from studiogan_slt import atomic
from studiogan_slt.cache import cache_dir
from studiogan_slt.data.digits import digits_arrays

NETWORK = "studiogan_slt.metrics.digits_net:digits_cnn"
BUILTIN = "digits_cnn"  # the extractor name a config may give instead of {network: NETWORK, weights: PATH}
VERSION = "v1"  # part of the cached file's name: change it when the network or its training changes


class DigitsCNN(nn.Module):
    """conv(w)x2 -> pool -> conv(2w)x2 -> pool -> conv(4w) -> pool -> linear; BN after every conv."""

    def __init__(self, num_classes=10, width=32):
        super().__init__()
        layers, in_ch = [], 3
        for out_ch, pool in ((width, False), (width, True), (2 * width, False), (2 * width, True), (4 * width, True)):
            layers += [nn.Conv2d(in_ch, out_ch, 3, padding=1), nn.BatchNorm2d(out_ch), nn.ReLU(inplace=True)]
            if pool:
                layers.append(nn.MaxPool2d(2))
            in_ch = out_ch
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(in_ch, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


def digits_cnn(num_classes=10, width=32):
    """The builder named in the user-network spec (`module:function`)."""
    return DigitsCNN(num_classes, width)


def _as_model_input(images_uint8):
    return torch.from_numpy(images_uint8).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


def _shift(images, generator, max_shift=2):
    """Random translation by up to max_shift pixels: cheap augmentation that makes the features less brittle."""
    dx, dy = (int(v) for v in torch.randint(-max_shift, max_shift + 1, (2,), generator=generator))
    return torch.roll(images, shifts=(dy, dx), dims=(2, 3))


def accuracy(net, images, labels, batch_size=256):
    net.eval()
    with torch.no_grad():
        correct = sum((net(images[i:i + batch_size]).argmax(1) == labels[i:i + batch_size]).sum().item()
                      for i in range(0, len(images), batch_size))
    return correct / len(images)


def seeded_order_generator(seed):
    """Seed torch's global RNG (the initialisation) and return a generator for the batch order, both from `seed`."""
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def train_digits_cnn(out_path, *, epochs=6, seed=0, batch_size=64, lr=2e-3, width=32, log=print):
    """Train on the digits train split, save the state_dict to out_path; returns {"valid_accuracy", "seconds"}."""
    start = time.time()
    gen = seeded_order_generator(seed)
    x_train, y_train = digits_arrays("train")
    x_valid, y_valid = digits_arrays("valid")
    x_train, x_valid = _as_model_input(x_train), _as_model_input(x_valid)
    y_train, y_valid = torch.from_numpy(y_train), torch.from_numpy(y_valid)
    net = digits_cnn(width=width)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    steps = epochs * ((len(x_train) + batch_size - 1) // batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    for epoch in range(epochs):
        net.train()
        order = torch.randperm(len(x_train), generator=gen)
        for i in range(0, len(order), batch_size):
            idx = order[i:i + batch_size]
            loss = F.cross_entropy(net(_shift(x_train[idx], gen)), y_train[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        log(f"epoch {epoch + 1}/{epochs}: last batch loss {loss.item():.4f}")
    result = {"valid_accuracy": accuracy(net, x_valid, y_valid), "seconds": time.time() - start}
    with atomic.replacing(out_path) as tmp:
        atomic.torch_save(net.state_dict(), tmp)
    return result


def cached_weights_path():
    return cache_dir() / f"digits_cnn_{VERSION}_seed0_ep6.pt"


def cached_weights(log=print):
    """The weights file of the built-in extractor in the user cache, trained (seed 0, 6 epochs) on first use."""
    path = cached_weights_path()
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        log(f"training the built-in digits extractor {BUILTIN!r} into {path} (once, about half a minute)")
        result = train_digits_cnn(path, log=lambda line: None)
        log(f"digits extractor: valid accuracy {result['valid_accuracy']:.4f}, {result['seconds']:.0f} s")
    return path
