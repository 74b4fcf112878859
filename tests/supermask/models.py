"""Small models covering every kind of maskable layer, with odd sizes so that kept counts round."""
import torch
from torch import nn
from torch.nn.utils import spectral_norm


class RawLayer(nn.Module):
    """Like StyleGAN2's layers: a raw weight/bias Parameter read in forward, with a runtime gain."""

    def __init__(self, cin, cout):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin))
        self.bias = nn.Parameter(torch.full((cout,), 0.1))
        self.gain = cin ** -0.5

    def forward(self, x):
        return x @ (self.weight * self.gain).t() + self.bias


class Zoo(nn.Module):
    """Embedding -> Linear -> raw layer -> ConvT -> BN -> SN conv -> Conv1d; every layer a different type."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(11, 9)
        self.fc = nn.Linear(9, 37)
        self.raw = RawLayer(37, 29)
        self.up = nn.ConvTranspose2d(29, 13, 3)
        self.bn = nn.BatchNorm2d(13)
        self.sn = spectral_norm(nn.Conv2d(13, 7, 3, padding=1))
        self.conv1d = nn.Conv1d(7, 5, 3)

    def forward(self, labels):
        h = torch.relu(self.raw(torch.relu(self.fc(self.embed(labels)))))
        h = torch.relu(self.bn(self.up(h[:, :, None, None])))
        h = self.sn(h)
        return self.conv1d(h.flatten(2))


def make_zoo(seed=0):
    torch.manual_seed(seed)
    return Zoo()


def zoo_input():
    return torch.arange(8) % 11
