"""Wave-U-Net (Stoller et al. 2018) with one output per instrument slot, and its
label-conditioned variant (Slizovskaia et al., ICASSP 2019).

* ``L`` down blocks: valid 1-D convolution (kernel ``k_down``, ``F * (i + 1)`` filters),
  LeakyReLU, decimation by 2 (every other sample);
* a bottleneck convolution (``F * (L + 1)`` filters);
* ``L`` up blocks: upsampling to ``2 n - 1`` samples (linear interpolation, or learned:
  a width-2 convolution whose responses are inserted between neighbours), cropping and
  concatenation of the skip connection, valid convolution (kernel ``k_up``), LeakyReLU;
* the input mixture (cropped) concatenated, and a 1x1 convolution with one output
  channel — its own weights — per instrument slot, then tanh.

Valid convolutions: the output is the centre of the input; :func:`shapes` gives the input
length needed for an output length (the paper's input context).

Conditioning (CExp): the bottleneck features ``(batch, C, T)`` are repeated once per
slot and each copy is multiplied by that slot's present-instrument bit, giving
``(batch, C * n_slots, T)`` (the reference code's multiplicative conditioning).  Exp has
the same architecture with an all-ones vector, so the two differ only in the labels.

Shapes: mixture ``(batch, n_in)``, labels ``(batch, n_slots)``, output ``(batch, n_slots, n_out)``.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def shapes(n_out_min: int, n_levels: int, k_down: int, k_up: int) -> tuple[int, int]:
    """``(n_in, n_out)`` of the smallest valid network output of at least ``n_out_min``
    samples (the arithmetic of the reference implementation's ``get_padding``)."""
    rem = float(n_out_min)
    for _ in range(n_levels):
        rem = (rem + k_up - 1 + 1) / 2.0
    x = int(math.ceil(rem))
    n_in, n_out = x + k_down - 1, x
    for _ in range(n_levels):
        n_out = 2 * n_out - 1 - k_up + 1
        n_in = 2 * n_in - 1 + k_down - 1
    return n_in, n_out


def _crop(x: torch.Tensor, n: int) -> torch.Tensor:
    d = x.shape[-1] - n
    assert d >= 0 and d % 2 == 0, (x.shape, n)
    return x[..., d // 2: x.shape[-1] - d // 2]


class LearnedUpsample(nn.Module):
    """``n -> 2n - 1`` samples: the originals, and between each pair a learned convex
    combination of the two neighbours (one weight per channel, sigmoid-squashed)."""

    def __init__(self, channels: int):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = torch.sigmoid(self.w)
        mid = a * x[..., :-1] + (1 - a) * x[..., 1:]
        out = torch.stack([x[..., :-1], mid], -1).flatten(-2)
        return torch.cat([out, x[..., -1:]], -1)


def linear_upsample(x: torch.Tensor) -> torch.Tensor:
    """``n -> 2n - 1`` by linear interpolation (align corners)."""
    return F.interpolate(x, size=2 * x.shape[-1] - 1, mode="linear", align_corners=True)


class WaveUNet(nn.Module):
    def __init__(self, n_slots: int = 13, n_levels: int = 12, n_filters: int = 24, k_down: int = 15, k_up: int = 5,
                 upsampling: str = "linear", conditioned: bool = False, output_type: str = "direct"):
        super().__init__()
        if output_type not in ("direct", "difference"):
            raise ValueError(f"unknown output_type {output_type!r}; use 'direct' or 'difference'")
        self.output_type = output_type
        self.n_slots, self.n_levels, self.k_down, self.k_up = n_slots, n_levels, k_down, k_up
        self.conditioned = conditioned
        self.down = nn.ModuleList()
        c = 1
        for i in range(n_levels):
            self.down.append(nn.Conv1d(c, n_filters * (i + 1), k_down))
            c = n_filters * (i + 1)
        self.bottleneck = nn.Conv1d(c, n_filters * (n_levels + 1), k_down)
        c = n_filters * (n_levels + 1) * n_slots  # features repeated per slot (x labels for CExp)
        self.ups = nn.ModuleList()
        self.up_convs = nn.ModuleList()
        for i in range(n_levels):
            skip = n_filters * (n_levels - i)
            self.ups.append(LearnedUpsample(c) if upsampling == "learned" else nn.Identity())
            self.up_convs.append(nn.Conv1d(c + skip, n_filters * (n_levels - i), k_up))
            c = n_filters * (n_levels - i)
        self.upsampling = upsampling
        self.out = nn.Conv1d(c + 1, n_slots, 1)  # one filter (own weights) per slot

    def forward(self, mix: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        x = mix.unsqueeze(1)
        skips = []
        h = x
        for conv in self.down:
            h = F.leaky_relu(conv(h), 0.2)
            skips.append(h)
            h = h[..., ::2]
        h = F.leaky_relu(self.bottleneck(h), 0.2)
        if self.conditioned and labels is None:
            raise ValueError("CExp-Wave-U-Net needs the present-instrument vector")
        z = labels if self.conditioned else torch.ones(h.shape[0], self.n_slots, dtype=h.dtype, device=h.device)
        h = (h.unsqueeze(2) * z[:, None, :, None]).flatten(1, 2)
        for i in range(self.n_levels):
            h = self.ups[i](h) if self.upsampling == "learned" else linear_upsample(h)
            s = skips[-i - 1]
            h = torch.cat([_crop(s, h.shape[-1]), h], 1)
            h = F.leaky_relu(self.up_convs[i](h), 0.2)
        mix_c = _crop(x, h.shape[-1])
        y = torch.tanh(self.out(torch.cat([mix_c, h], 1)))
        if self.output_type == "difference":  # the last slot is what the others leave of the mixture
            y = torch.cat([y[:, :-1], mix_c - y[:, :-1].sum(1, keepdim=True)], 1)
        return y

    def io(self, n_out_min: int) -> tuple[int, int]:
        return shapes(n_out_min, self.n_levels, self.k_down, self.k_up)


@torch.no_grad()
def separate_long(model: WaveUNet, mix: torch.Tensor, labels: torch.Tensor | None, n_out: int) -> torch.Tensor:
    """Estimates of a whole recording by tiling the network's output windows; the input is
    zero-padded by the context on both sides.  Shape: ``(n,)`` -> ``(n_slots, n)``."""
    n_in, n_o = model.io(n_out)
    ctx = (n_in - n_o) // 2
    n = mix.shape[-1]
    n_win = math.ceil(n / n_o)
    padded = F.pad(mix, (ctx, n_win * n_o - n + ctx))
    wins = torch.stack([padded[k * n_o: k * n_o + n_in] for k in range(n_win)])
    lab = None if labels is None else labels.expand(n_win, -1)
    out = model(wins, lab)  # (n_win, n_slots, n_o)
    return out.permute(1, 0, 2).reshape(model.n_slots, -1)[:, :n]
