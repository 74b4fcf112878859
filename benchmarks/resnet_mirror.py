"""The plain-PyTorch mirror of StudioGAN's `resnet` generator at 32x32, unconditional (g_cond_mtd W/O), that
search_recipe.py and width_diagnosis.py search and train without StudioGAN: Linear z -> 4x4x4c, three
BN-ReLU-up-conv blocks with a 1x1 shortcut, BN-ReLU-conv3x3-tanh; c = g_conv_dim."""
import torch
import torch.nn.functional as F
from torch import nn


class GenBlock(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.bn1, self.bn2 = nn.BatchNorm2d(ch, eps=1e-4), nn.BatchNorm2d(ch, eps=1e-4)
        self.conv0 = nn.Conv2d(ch, ch, 1)
        self.conv1, self.conv2 = nn.Conv2d(ch, ch, 3, padding=1), nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x):
        h = F.interpolate(F.relu(self.bn1(x)), scale_factor=2)
        h = self.conv2(F.relu(self.bn2(self.conv1(h))))
        return h + self.conv0(F.interpolate(x, scale_factor=2))


class ResNetG(nn.Module):
    """StudioGAN's resnet generator at 32x32, unconditional (g_cond_mtd W/O)."""

    def __init__(self, z_dim=128, g_conv_dim=16):
        super().__init__()
        self.ch = 4 * g_conv_dim
        self.linear0 = nn.Linear(z_dim, self.ch * 16)
        self.blocks = nn.Sequential(*[GenBlock(self.ch) for _ in range(3)])
        self.bn4 = nn.BatchNorm2d(self.ch, eps=1e-4)
        self.conv4 = nn.Conv2d(self.ch, 3, 3, padding=1)
        for m in self.modules():  # StudioGAN's default g_init "ortho"
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                nn.init.orthogonal_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, z):
        h = self.blocks(self.linear0(z).view(len(z), self.ch, 4, 4))
        return torch.tanh(self.conv4(F.relu(self.bn4(h))))
