"""A tiny z -> image generator with the layer kinds of StudioGAN's DCGAN/SNGAN (Linear, ConvTranspose2d, BN, SN conv),
importable by name so tickets can name it as their builder."""
import torch
from torch import nn

Z_DIM = 16
SAMPLER = {"z_dim": Z_DIM}


def tiny_generator(width=24, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(Z_DIM, width * 4 * 4), nn.Unflatten(1, (width, 4, 4)), nn.BatchNorm2d(width), nn.ReLU(),
        nn.ConvTranspose2d(width, 11, 4, 2, 1), nn.BatchNorm2d(11), nn.ReLU(),
        nn.utils.spectral_norm(nn.Conv2d(11, 3, 3, padding=1)), nn.Tanh())


def searched(model, k=0.1, **options):
    """Convert, then run BN in train mode once so that running statistics are not at their init values, as after a
    score search."""
    from studiogan_slt import convert

    convert(model, k, **options)
    model.train()
    with torch.no_grad():
        model(torch.randn(6, Z_DIM))
    return model.eval()
