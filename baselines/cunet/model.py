"""Conditioned spectrogram U-Nets of the seed thesis' section 5.3 (O. Slizovskaia,
G. Haro, E. Gómez, "Conditioned source separation for music instrument performances",
IEEE/ACM TASLP 2021; public code ``Veleslavia/conditioned-u-net``).

* :class:`CUNet` with ``heads=1`` — the U-Net: 6 encoder blocks (4x4 stride-2 convolution,
  batch norm, LeakyReLU 0.2), 6 decoder blocks (bilinear upsampling x2, concatenation of
  the encoder features of that resolution, 3x3 convolution, batch norm, ReLU, dropout) and
  a 1x1 convolution to 13 mask logits, one per instrument slot in the fixed order.
* ``heads=13`` — the Multi-Head U-Net (MHU-Net): the same encoder shared by 13 decoders,
  each ending in one mask (``head_width`` < 1 narrows the decoders, for CPU-sized runs).
* Conditioning on a context vector (:class:`FiLM`: ``x * (1 + dgamma) + beta`` with
  ``dgamma, beta`` from a two-layer network of the context whose last layer starts at
  zero, so every FiLM layer is the identity at initialisation): ``film-bottleneck`` (on the
  bottleneck features), ``film-encoder`` (after the batch norm of every encoder block),
  ``film-final`` (on the 13 mask logits of the last decoder layer), and
  ``label-multiply`` (the present-instrument vector multiplies the masks *after* the
  output sigmoid, so absent instruments get exactly zero).
* Contexts (:class:`Context`): ``labels`` — the binary present-instrument vector;
  ``visual`` — one vector per player from a frame of that player through a ResNet-18
  trunk trained as an instrument classifier (frozen features, or the trunk fine-tuned
  here); ``motion`` — an LSTM over per-frame trunk features of ``T`` frames per player.
  As in the thesis, the ``K' = 7`` per-player vectors are concatenated in the players'
  order, which carries no identity (position order at test time, a random order in
  training); absent players contribute zero vectors.  The visual contexts never see the
  labels.

Shapes: input ``(B, 1, F, T)`` (``F`` = 256 log-frequency rows or 512 linear bins,
``T`` = 256 frames); masks ``(B, 13, F, T)`` in [0, 1].
"""
from __future__ import annotations

import torch
import torch.nn as nn

N_SLOTS = 13
MAX_PLAYERS = 7  #: K', the most sources in a mixture (the curriculum's top)
CONDITIONINGS = (None, "film-bottleneck", "film-encoder", "film-final", "label-multiply")
CONTEXTS = (None, "labels", "visual", "visual-finetune", "motion")


class FiLM(nn.Module):
    """Feature-wise linear modulation of ``channels`` feature maps by a context vector."""

    def __init__(self, d_context: int, channels: int, hidden: int = 64):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d_context, hidden), nn.ReLU(), nn.Linear(hidden, 2 * channels))
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)

    def forward(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        dgamma, beta = self.net(context).chunk(2, -1)
        return x * (1 + dgamma)[..., None, None] + beta[..., None, None]


class Context(nn.Module):
    """The context vector ``(B, d)`` of one kind.

    ``labels``: ``present`` ``(B, 13)`` is the context itself.  The visual kinds take
    ``K'`` players in the order given, ``present`` ``(B, K')`` marking the real ones:
    ``visual``: per-player trunk features ``(B, K', D)`` -> ``(B, K' D)``;
    ``visual-finetune``: one frame per player ``(B, K', 3, H, W)`` through the
    (trainable) ``trunk`` -> ``(B, K' D)``; ``motion``: per-frame features
    ``(B, K', T, D)`` through an LSTM -> last hidden state per player ``(B, K' H)``.
    Absent players give zero vectors.
    """

    def __init__(self, kind: str, d_feature: int = 0, lstm_hidden: int = 64, trunk: nn.Module | None = None,
                 n_players: int = MAX_PLAYERS):
        super().__init__()
        self.kind = kind
        self.trunk = trunk
        self.n_players = n_players
        if kind == "labels":
            self.dim = N_SLOTS
        elif kind in ("visual", "visual-finetune"):
            self.dim = n_players * d_feature
        elif kind == "motion":
            self.lstm = nn.LSTM(d_feature, lstm_hidden, batch_first=True)
            self.dim = n_players * lstm_hidden
        else:
            raise ValueError(f"unknown context {kind!r}; use one of {CONTEXTS[1:]}")

    def forward(self, ctx: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        b = present.shape[0]
        on = present.bool()
        if self.kind == "labels":
            return present.float()
        if self.kind == "visual":
            return (ctx * present[..., None]).reshape(b, -1)
        if self.kind == "visual-finetune":
            feats = self.trunk.features(ctx[on])  # only the present sources' frames
        else:  # motion
            _, (h, _) = self.lstm(ctx[on])
            feats = h[-1]
        out = feats.new_zeros(b, self.n_players, feats.shape[-1])
        out[on] = feats
        return out.reshape(b, -1)


class _Decoder(nn.Module):
    """Upsample, concatenate the encoder features of that resolution, 3x3 convolution,
    batch norm, ReLU, dropout; ``widths`` the encoder's, ``dec_widths`` this decoder's
    (narrower for the 13 decoders of a CPU-sized MHU-Net)."""

    def __init__(self, widths: list[int], dec_widths: list[int], n_out: int, dropout: float, bias: bool = False):
        super().__init__()
        skips = [1] + widths[:-1]  # channels of the encoder features at each resolution
        self.blocks = nn.ModuleList()
        c = widths[-1]
        for j in range(len(widths)):
            out = dec_widths[-2 - j] if j < len(widths) - 1 else dec_widths[0]
            self.blocks.append(nn.Sequential(
                nn.Conv2d(c + skips[-1 - j], out, 3, padding=1, bias=bias), nn.BatchNorm2d(out), nn.ReLU(),
                nn.Dropout(dropout)))
            c = out
        self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
        self.out = nn.Conv2d(c, n_out, 1)

    def forward(self, h: torch.Tensor, feats: list[torch.Tensor]) -> torch.Tensor:
        for j, blk in enumerate(self.blocks):
            h = blk(torch.cat([self.up(h), feats[-2 - j]], 1))
        return self.out(h)


class CUNet(nn.Module):
    """U-Net (``heads=1``) or MHU-Net (``heads=13``) mask estimator with optional
    conditioning; ``forward(x, context, present)`` returns masks in [0, 1] (``sigmoid`` of
    the logits, multiplied by ``present`` for ``label-multiply``).  ``bias``: the
    convolutions of the encoder and decoder blocks get biases (Table A.1's "bias" column;
    without it the batch norm that follows supplies the offset)."""

    def __init__(self, widths=(16, 32, 64, 128, 256, 512), heads: int = 1, dropout: float = 0.2,
                 conditioning: str | None = None, context: Context | None = None, film_hidden: int = 64,
                 head_width: float = 1.0, bias: bool = False):
        super().__init__()
        if conditioning not in CONDITIONINGS:
            raise ValueError(f"unknown conditioning {conditioning!r}; use one of {CONDITIONINGS}")
        if conditioning and conditioning != "label-multiply" and context is None:
            raise ValueError(f"{conditioning} needs a context")
        if heads not in (1, N_SLOTS):
            raise ValueError(f"heads must be 1 (U-Net) or {N_SLOTS} (MHU-Net), not {heads}")
        widths = list(widths)
        self.conditioning, self.context, self.heads = conditioning, context, heads
        self.bn0 = nn.BatchNorm2d(1)
        self.enc = nn.ModuleList()
        c = 1
        for w in widths:
            self.enc.append(nn.ModuleDict({"conv": nn.Conv2d(c, w, 4, 2, 1, bias=bias), "bn": nn.BatchNorm2d(w)}))
            c = w
        self.act = nn.LeakyReLU(0.2)
        d = context.dim if context is not None else 0
        if conditioning == "film-encoder":
            self.film = nn.ModuleList(FiLM(d, w, film_hidden) for w in widths)
        elif conditioning == "film-bottleneck":
            self.film = FiLM(d, widths[-1], film_hidden)
        elif conditioning == "film-final":
            self.film = FiLM(d, N_SLOTS, film_hidden)
        n_out = N_SLOTS if heads == 1 else 1
        dec_widths = [max(1, round(w * head_width)) for w in widths] if heads > 1 else widths
        self.dec = nn.ModuleList(_Decoder(widths, dec_widths, n_out, dropout, bias) for _ in range(heads))

    def logits(self, x: torch.Tensor, context: torch.Tensor | None = None, present: torch.Tensor | None = None) -> torch.Tensor:
        c = self.context(context, present) if self.context is not None else None
        feats = [self.bn0(x)]
        h = feats[0]
        for i, blk in enumerate(self.enc):
            h = blk["bn"](blk["conv"](h))
            if self.conditioning == "film-encoder":
                h = self.film[i](h, c)
            h = self.act(h)
            feats.append(h)
        if self.conditioning == "film-bottleneck":
            h = self.film(h, c)
            feats[-1] = h
        out = torch.cat([dec(h, feats) for dec in self.dec], 1)
        if self.conditioning == "film-final":
            out = self.film(out, c)
        return out

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None, present: torch.Tensor | None = None) -> torch.Tensor:
        m = torch.sigmoid(self.logits(x, context, present))
        if self.conditioning == "label-multiply":  # after the activation: absent slots exactly 0
            m = m * present[:, :, None, None].to(m.dtype)
        return m
