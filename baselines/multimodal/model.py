"""Models of the multimodal instrument classifier (seed thesis ch. 4; ICMR 2017).

* :class:`LogMel` — log-mel front end (torchaudio): power mel spectrogram in dB.
* :class:`ChoiCNN` — the audio CNN of Choi et al. 2016 as used in the thesis: batch norm
  over the input, four 3x3 conv blocks (conv, batch norm, ELU, max pooling 2/3/4/4),
  flatten, a 1024-unit ELU layer with dropout 0.5 (the penultimate features), softmax.
  About 2.4 M parameters at paper size (96 mel bands x 1366 frames, widths 64/128/128/128).
* :class:`HanCNN` — the CNN of Han et al. 2016: 128 mel bands x 43 frames windows, eight
  3x3 conv layers in pairs (32, 64, 128, 256) with max pooling and dropout, global max
  pooling, a 1024-unit layer; clip predictions average the windows.
* :class:`XceptionCNN` — the Xception-style audio network of the thesis (section 4.2.2):
  a first layer of rectangular 48 x 3 filters (timbre along frequency), then Xception's
  depthwise-separable convolution blocks with residual shortcuts (entry blocks with max
  pooling, middle blocks), a separable convolution to ``sep`` (768) channels, global
  average pooling and a 1024-unit layer; crops averaged as for Choi ("UC").
* :class:`FrameCNN` — a per-frame image CNN (torchvision ResNet-18, from scratch or from a
  local ImageNet weights file); a video's prediction averages its k frames.
* :class:`Fusion` — late fusion on frozen features: the k frames' penultimate features and
  the audio's concatenated, batch norm, a 1024-unit ReLU layer with batch norm, softmax.

Shapes: audio ``(batch, n_samples)``; frames ``(batch, k, 3, size, size)`` float in [0, 1];
class scores ``(batch, n_classes)``.
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchaudio


def mel_filterbank(n_freqs: int, sample_rate: float, n_mels: int, f_min: float = 0.0, f_max: float | None = None) -> torch.Tensor:
    """Triangular HTK-scale mel filters without normalisation on the exact STFT bin
    frequencies ``k * sample_rate / n_fft`` (torchaudio's ``melscale_fbanks`` places the bins
    on ``linspace(0, sample_rate // 2)``, off by half a hertz at odd rates such as 11025).
    Shape: ``(n_freqs, n_mels)``."""
    f_max = sample_rate / 2 if f_max is None else f_max
    mel = lambda f: 2595.0 * torch.log10(1.0 + f / 700.0)  # noqa: E731
    pts = 700.0 * (10 ** (torch.linspace(float(mel(torch.tensor(f_min))), float(mel(torch.tensor(f_max))), n_mels + 2,
                                          dtype=torch.float64) / 2595.0) - 1.0)
    f = torch.linspace(0, sample_rate / 2, n_freqs, dtype=torch.float64)[:, None]
    up = (f - pts[:-2]) / (pts[1:-1] - pts[:-2])
    down = (pts[2:] - f) / (pts[2:] - pts[1:-1])
    return torch.clamp(torch.minimum(up, down), min=0.0).float()


class LogMel(nn.Module):
    """Power mel spectrogram in dB: torchaudio STFT power (Hann window, centred, reflect
    padding), :func:`mel_filterbank`, floored at ``amin`` and clipped ``top_db`` below the
    maximum of each example.  Shape: ``(batch, n_samples)`` -> ``(batch, n_mels, n_frames)``."""

    def __init__(self, sample_rate: int = 11025, n_fft: int = 512, hop: int = 256, n_mels: int = 96,
                 amin: float = 1e-10, top_db: float = 80.0):
        super().__init__()
        self.spec = torchaudio.transforms.Spectrogram(n_fft=n_fft, hop_length=hop, power=2.0, center=True,
                                                      pad_mode="reflect")
        self.register_buffer("fb", mel_filterbank(n_fft // 2 + 1, sample_rate, n_mels))
        self.amin, self.top_db = amin, top_db

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mel = torch.matmul(self.spec(x).transpose(-1, -2), self.fb).transpose(-1, -2)
        db = 10.0 * torch.log10(mel.clamp_min(self.amin))
        peak = db.amax(dim=(-2, -1), keepdim=True)
        return torch.maximum(db, peak - self.top_db)


class ChoiCNN(nn.Module):
    def __init__(self, n_classes: int, n_mels: int = 96, n_frames: int = 257, widths=(64, 128, 128, 128),
                 pools=((2, 2), (3, 3), (4, 4), (4, 4)), fc: int = 1024, dropout: float = 0.5):
        super().__init__()
        tot_t = 1
        for p in pools:
            tot_t *= p[1]
        self.pad_t = (-n_frames) % tot_t  # zero-pad time to a multiple of the pooling (paper: 1366 -> 1440)
        self.bn0 = nn.BatchNorm2d(1)
        layers, c_in = [], 1
        for w, p in zip(widths, pools):
            layers += [nn.Conv2d(c_in, w, 3, padding=1), nn.BatchNorm2d(w), nn.ELU(), nn.MaxPool2d(p, p)]
            c_in = w
        self.conv = nn.Sequential(*layers)
        f, t = n_mels, n_frames + self.pad_t
        for p in pools:
            f, t = f // p[0], t // p[1]
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(c_in * f * t, fc), nn.ELU(), nn.Dropout(dropout))
        self.out = nn.Linear(fc, n_classes)
        self.n_features = fc

    def features(self, spec: torch.Tensor) -> torch.Tensor:
        """Penultimate features.  Shape: ``(batch, n_mels, n_frames)`` -> ``(batch, fc)``."""
        x = F.pad(spec, (self.pad_t // 2, self.pad_t - self.pad_t // 2)).unsqueeze(1)
        return self.fc(self.conv(self.bn0(x)))

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        return self.out(self.features(spec))


class HanCNN(nn.Module):
    def __init__(self, n_classes: int, n_mels: int = 128, n_frames: int = 43, widths=(32, 64, 128, 256),
                 fc: int = 1024, dropout: float = 0.5):
        super().__init__()
        layers, c_in = [], 1
        for k, w in enumerate(widths):
            layers += [nn.Conv2d(c_in, w, 3, padding=1), nn.LeakyReLU(0.33), nn.Conv2d(w, w, 3, padding=1),
                       nn.LeakyReLU(0.33)]
            if k < len(widths) - 1:
                layers += [nn.MaxPool2d(3, 3, ceil_mode=True), nn.Dropout(0.25)]
            c_in = w
        self.conv = nn.Sequential(*layers)
        self.fc = nn.Sequential(nn.Linear(c_in, fc), nn.LeakyReLU(0.33), nn.Dropout(dropout))
        self.out = nn.Linear(fc, n_classes)
        self.n_frames, self.n_features = n_frames, fc

    def features(self, spec: torch.Tensor) -> torch.Tensor:
        """Shape: ``(batch, n_mels, n_frames)`` -> ``(batch, fc)`` (global max pooling)."""
        x = self.conv(spec.unsqueeze(1))
        return self.fc(x.amax(dim=(-2, -1)))

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        return self.out(self.features(spec))


class SeparableConv(nn.Sequential):
    """Depthwise 3x3 convolution then pointwise 1x1 (Xception's separable convolution)."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__(nn.Conv2d(c_in, c_in, 3, padding=1, groups=c_in, bias=False),
                         nn.Conv2d(c_in, c_out, 1, bias=False))


class _XBlock(nn.Module):
    """Residual Xception block: ``reps`` x (ReLU, separable conv, batch norm), then 3x3
    max pooling with stride 2 when ``down``; a 1x1 (strided) shortcut when shapes change."""

    def __init__(self, c_in: int, c_out: int, reps: int, down: bool, first_relu: bool = True):
        super().__init__()
        layers = []
        for r in range(reps):
            if r or first_relu:
                layers.append(nn.ReLU())
            layers += [SeparableConv(c_in if r == 0 else c_out, c_out), nn.BatchNorm2d(c_out)]
        if down:
            layers.append(nn.MaxPool2d(3, 2, padding=1))
        self.body = nn.Sequential(*layers)
        self.skip = (nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=2 if down else 1, bias=False), nn.BatchNorm2d(c_out))
                     if down or c_in != c_out else nn.Identity())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) + self.skip(x)


class XceptionCNN(nn.Module):
    def __init__(self, n_classes: int, n_mels: int = 96, first=(48, 3), widths=(64, 128, 256, 728), n_middle: int = 8,
                 sep: int = 768, fc: int = 1024, dropout: float = 0.5):
        super().__init__()
        self.bn0 = nn.BatchNorm2d(1)
        self.stem = nn.Sequential(nn.Conv2d(1, widths[0], tuple(first), padding=(0, first[1] // 2), bias=False),
                                  nn.BatchNorm2d(widths[0]), nn.ReLU())
        blocks, c = [], widths[0]
        for i, w in enumerate(widths[1:]):
            blocks.append(_XBlock(c, w, 2, down=True, first_relu=i > 0))
            c = w
        blocks += [_XBlock(c, c, 3, down=False) for _ in range(n_middle)]
        self.blocks = nn.Sequential(*blocks)
        self.exit = nn.Sequential(SeparableConv(c, sep), nn.BatchNorm2d(sep), nn.ReLU())
        self.fc = nn.Sequential(nn.Linear(sep, fc), nn.ReLU(), nn.Dropout(dropout))
        self.out = nn.Linear(fc, n_classes)
        self.n_features = fc

    def features(self, spec: torch.Tensor) -> torch.Tensor:
        """Shape: ``(batch, n_mels, n_frames)`` -> ``(batch, fc)`` (global average pooling)."""
        x = self.exit(self.blocks(self.stem(self.bn0(spec.unsqueeze(1)))))
        return self.fc(x.mean(dim=(-2, -1)))

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        return self.out(self.features(spec))


def windows(spec: torch.Tensor, n_frames: int, n_windows: int | None = None, hop: int | None = None) -> torch.Tensor:
    """Crops of ``n_frames`` along time: ``n_windows`` uniformly spaced ones (the thesis'
    "UC" strategy), or every ``hop`` frames.  ``n_windows=1`` is the central crop ("CC").
    Shape: ``(batch, n_mels, T)`` -> ``(batch, n_windows, n_mels, n_frames)``."""
    T = spec.shape[-1]
    if T < n_frames:
        spec = F.pad(spec, (0, n_frames - T))
        T = n_frames
    if n_windows is None:
        starts = list(range(0, T - n_frames + 1, hop or n_frames))
    elif n_windows == 1:
        starts = [(T - n_frames) // 2]
    else:
        starts = [round(i * (T - n_frames) / (n_windows - 1)) for i in range(n_windows)]
    return torch.stack([spec[..., s:s + n_frames] for s in starts], dim=1)


def crop_average(model: nn.Module, spec: torch.Tensor, n_frames: int, n_windows: int | None = 8) -> torch.Tensor:
    """Class probabilities of a clip: the softmax of every crop, averaged.
    Shape: ``(batch, n_mels, T)`` -> ``(batch, n_classes)``."""
    w = windows(spec, n_frames, n_windows)
    b, n = w.shape[:2]
    p = torch.softmax(model(w.flatten(0, 1)), dim=-1)
    return p.view(b, n, -1).mean(1)


class FrameCNN(nn.Module):
    """ResNet-18 on single frames; ``weights``: optional local ImageNet state dict;
    ``zoom``: the thesis' resize and central crop, applied to every frame it reads."""

    def __init__(self, n_classes: int, weights: str | Path | None = None, width: int = 64, zoom: float = 1.0):
        super().__init__()
        self.zoom = zoom  # frames resized by this and centre-cropped back before the trunk (the thesis' 256 -> 224)
        import torchvision

        if width == 64:
            net = torchvision.models.resnet18(weights=None)
        else:  # a narrower ResNet-18 for CPU training (same depth and blocks)
            from torchvision.models.resnet import BasicBlock, ResNet

            net = ResNet(BasicBlock, [2, 2, 2, 2])
            _narrow(net, width)
        if weights is not None:
            net.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
        self.n_features = net.fc.in_features
        net.fc = nn.Identity()
        self.trunk = net
        self.out = nn.Linear(self.n_features, n_classes)
        mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
        std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)

    def features(self, frames: torch.Tensor) -> torch.Tensor:
        """Shape: ``(batch, 3, H, W)`` -> ``(batch, n_features)``."""
        if self.zoom != 1:
            h, w = frames.shape[-2:]
            H, W = round(h * self.zoom), round(w * self.zoom)
            frames = F.interpolate(frames, size=(H, W), mode="bilinear", align_corners=False, antialias=True)
            frames = frames[..., (H - h) // 2:(H - h) // 2 + h, (W - w) // 2:(W - w) // 2 + w]
        return self.trunk((frames - self.mean) / self.std)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return self.out(self.features(frames))

    def video_probs(self, frames: torch.Tensor) -> torch.Tensor:
        """Average of the k frames' softmax.  Shape: ``(batch, k, 3, H, W)`` -> ``(batch, n_classes)``."""
        b, k = frames.shape[:2]
        return torch.softmax(self(frames.flatten(0, 1)), -1).view(b, k, -1).mean(1)


def _narrow(net: nn.Module, width: int) -> None:
    """Rebuild a torchvision ResNet-18 with base width ``width`` instead of 64."""
    from torchvision.models.resnet import BasicBlock

    net.inplanes = width
    net.conv1 = nn.Conv2d(3, width, 7, 2, 3, bias=False)
    net.bn1 = nn.BatchNorm2d(width)
    net.layer1 = net._make_layer(BasicBlock, width, 2)
    net.layer2 = net._make_layer(BasicBlock, width * 2, 2, stride=2)
    net.layer3 = net._make_layer(BasicBlock, width * 4, 2, stride=2)
    net.layer4 = net._make_layer(BasicBlock, width * 8, 2, stride=2)
    net.fc = nn.Linear(width * 8, 1000)


class Fusion(nn.Module):
    """Late fusion of frozen features.  Shape: ``(batch, k * d_visual + d_audio)`` -> logits."""

    def __init__(self, n_in: int, n_classes: int, hidden: int = 1024):
        super().__init__()
        self.net = nn.Sequential(nn.BatchNorm1d(n_in), nn.Linear(n_in, hidden), nn.ReLU(), nn.BatchNorm1d(hidden),
                                 nn.Linear(hidden, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def n_parameters(*modules: nn.Module) -> int:
    return sum(p.numel() for m in modules for p in m.parameters())
