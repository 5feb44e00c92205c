"""Sound-of-Pixels (Zhao et al., ECCV 2018) and Object-Prior (Nguyen et al.) networks.

* :class:`AudioUNet` — U-Net with ``n_down`` (7) stride-2 down-convolutions and as many
  up-convolutions on the 256 x 256 log-frequency magnitude of the mixture, ``K`` output
  channels.
* :class:`VisualNet` — a dilated ResNet-18 trunk (the last stage's stride replaced by
  dilation as the reference ``_nostride_dilate`` does: its strided first convolution
  keeps dilation 1, the others get 2) and a 3x3 convolution to ``K`` channels, max-pooled over space and over the
  clip's frames: one ``K``-vector per video.
* :class:`SoPSynthesizer` — ``mask = sigmoid(sum_k s_k v_k a_k + b)`` with ``v`` the
  sigmoid visual vector, ``a`` the audio channels, learned scales ``s`` and bias ``b``.
* :class:`ObjectPriorSynthesizer` — the visual network is an instrument classifier;
  ``mask = sigmoid(sum_k softmax(v)_k a_k)`` (the paper's equation 2: the audio channels
  weighted by the class posterior, weights summing to one).

Shapes: spectrogram ``(batch, 1, 256, 256)``; frames ``(batch, n_frames, 3, H, W)`` in
[0, 1]; audio channels ``(batch, K, 256, 256)``; visual vector ``(batch, K)``; mask
``(batch, 256, 256)``.
"""
from __future__ import annotations

import torch
import torch.nn as nn


class AudioUNet(nn.Module):
    def __init__(self, k: int = 32, ngf: int = 64, n_down: int = 7):
        super().__init__()
        chans = [min(ngf * 2 ** i, ngf * 8) for i in range(n_down)]
        self.bn0 = nn.BatchNorm2d(1)
        self.down = nn.ModuleList()
        c = 1
        for i, ch in enumerate(chans):
            layers = [nn.Conv2d(c, ch, 4, 2, 1, bias=False)]
            if 0 < i < n_down - 1:
                layers.append(nn.BatchNorm2d(ch))
            layers.append(nn.LeakyReLU(0.2) if i < n_down - 1 else nn.ReLU())
            self.down.append(nn.Sequential(*layers))
            c = ch
        self.up = nn.ModuleList()
        for i in reversed(range(n_down)):
            c_in = chans[i] if i == n_down - 1 else chans[i] * 2
            c_out = chans[i - 1] if i > 0 else k
            last = i == 0
            layers = [nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True),
                      nn.Conv2d(c_in, c_out, 3, 1, 1, bias=last)]
            if not last:
                layers += [nn.BatchNorm2d(c_out), nn.ReLU()]
            self.up.append(nn.Sequential(*layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.bn0(x)
        skips = []
        for d in self.down:
            h = d(h)
            skips.append(h)
        h = self.up[0](skips[-1])
        for i, u in enumerate(self.up[1:], start=2):
            h = u(torch.cat([h, skips[-i]], 1))
        return h


class VisualNet(nn.Module):
    """Dilated ResNet-18 trunk -> ``K`` channels -> spatial and temporal max pooling."""

    def __init__(self, k: int = 32, width: int = 64, weights: str | None = None):
        super().__init__()
        from torchvision.models.resnet import BasicBlock, ResNet

        net = ResNet(BasicBlock, [2, 2, 2, 2])
        if width != 64:
            from ..multimodal.model import _narrow

            _narrow(net, width)
        if weights is not None:
            net.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
        nostride_dilate(net.layer4, 2)  # the "dilated ResNet-18" of the paper: output stride 16
        self.trunk = nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool, net.layer1, net.layer2, net.layer3,
                                   net.layer4)
        self.head = nn.Conv2d(width * 8, k, 3, padding=1)
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def frame_vectors(self, frames: torch.Tensor) -> torch.Tensor:
        """Per-frame ``K``-vectors (spatial max pooling).  ``(B, 3, H, W)`` -> ``(B, K)``."""
        return self.head(self.trunk((frames - self.mean) / self.std)).amax(dim=(-2, -1))

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """``(batch, n_frames, 3, H, W)`` -> ``(batch, K)`` (max over frames; no activation)."""
        b, n = frames.shape[:2]
        return self.frame_vectors(frames.flatten(0, 1)).view(b, n, -1).amax(1)


def nostride_dilate(layer: nn.Module, dilate: int = 2) -> None:
    """Replace a ResNet stage's stride by dilation, the rule of the reference code's
    ``_nostride_dilate``: a strided convolution gets stride 1 and, if 3x3, dilation
    ``dilate // 2`` (the stage's first convolution keeps dilation 1); every other 3x3
    convolution gets dilation ``dilate`` (padding equal to the dilation, so sizes keep)."""
    for m in layer.modules():
        if not isinstance(m, nn.Conv2d):
            continue
        if m.stride == (2, 2):
            m.stride = (1, 1)
            if m.kernel_size == (3, 3):
                m.dilation = m.padding = (dilate // 2, dilate // 2)
        elif m.kernel_size == (3, 3):
            m.dilation = m.padding = (dilate, dilate)


class SoPSynthesizer(nn.Module):
    def __init__(self, k: int):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(k))
        self.bias = nn.Parameter(torch.zeros(1))

    def weights(self, v: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(v)

    def forward(self, v: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        """Mask logits.  ``v (B, K)``, ``a (B, K, F, T)`` -> ``(B, F, T)``."""
        w = self.weights(v) * self.scale
        return torch.einsum("bk,bkft->bft", w, a) + self.bias


class ObjectPriorSynthesizer(nn.Module):
    def weights(self, v: torch.Tensor) -> torch.Tensor:
        return torch.softmax(v, dim=-1)

    def forward(self, v: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        return torch.einsum("bk,bkft->bft", self.weights(v), a)


class Separator(nn.Module):
    """Audio network + visual network + synthesizer."""

    def __init__(self, kind: str, k: int, ngf: int, n_down: int, visual_width: int, weights: str | None = None):
        super().__init__()
        self.kind = kind
        self.audio = AudioUNet(k, ngf, n_down)
        self.visual = VisualNet(k, visual_width, weights)
        self.synth = SoPSynthesizer(k) if kind == "sop" else ObjectPriorSynthesizer()

    def mask_logits(self, spec: torch.Tensor, frames: torch.Tensor) -> torch.Tensor:
        """``spec (B, 1, F, T)`` (the mixture, repeated per source), ``frames (B, n, 3, H, W)``."""
        return self.synth(self.visual(frames), self.audio(spec))


def freeze(m: nn.Module) -> None:
    for p in m.parameters():
        p.requires_grad_(False)
    m.eval()
