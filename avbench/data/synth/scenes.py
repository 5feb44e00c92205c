"""Styled performance video of ``synth-ensembles`` version 2: a visual stream that has to be learned.

Every frame is still a deterministic function of a player's notes and of the player's
*style*, drawn per recording (seeded) and recorded in the manifest:

* **the instrument**: its class geometry with per-player proportions (size +-12 %,
  aspect +-8 %), a material drawn from the family's palette (varnished woods for
  strings; black wood, grenadilla or plastic for oboe, clarinet and bassoon; silver or
  gold for flute; lacquers for saxophone and brass), a viewpoint rotation (+-15 degrees)
  and a position offset.  Classes look alike where real instruments do: violin, viola,
  cello and double bass are one drawing in four sizes, told apart by size and by how they
  are held (under the chin or upright); oboe and clarinet are dark straight tubes;
* **the performer**: head, torso and arms in a drawn skin tone and shirt colour, whose
  motion is driven by the notes: the bowing arm follows the bow stroke (a new stroke at
  every note change), the fingering hand moves with the pitch, valves are pressed by note,
  and the body breathes and sways, lifting at wind onsets;
* **the scene**: one of eight backgrounds (gradient, wallpaper stripes, checkered floor,
  textured noise, room with furniture, stage curtain, bokeh lights, brick tiles) with
  clutter; a music stand occluding part of the player (half of the players); lighting
  (gain 0.6-1.3, a side light, colour temperature); camera noise (sd 2-8), blur (radius up to 1 px
  at 224 px) and JPEG compression (quality 35-90).

Backgrounds are the split styles: ``STYLE_SPLITS`` gives six to training and keeps
``bokeh`` and ``tiles`` (with their palettes) for validation and test only.
"""
from __future__ import annotations

import functools
import io
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from ...instruments import BY_NAME
from ...video import PlayerState, player_state

BACKGROUNDS = ("gradient", "stripes", "checker", "noise", "room", "curtain", "bokeh", "tiles")
STYLE_SPLITS = {"train": BACKGROUNDS[:6], "val": BACKGROUNDS[6:], "test": BACKGROUNDS[6:]}

_MATERIALS = {
    "strings": [(150, 75, 30), (120, 55, 25), (185, 110, 50), (95, 45, 25), (170, 90, 40), (140, 70, 45)],
    "dark_wood": [(30, 25, 25), (45, 30, 28), (20, 20, 22), (55, 40, 35), (38, 34, 40)],
    "flute": [(205, 205, 212), (190, 192, 200), (214, 190, 120), (225, 225, 228)],
    "lacquer": [(212, 175, 55), (200, 160, 70), (225, 195, 95), (190, 190, 198), (184, 115, 51), (160, 130, 60)],
}
_SKIN = [(241, 194, 167), (224, 172, 105), (198, 134, 66), (141, 85, 36), (92, 60, 40), (255, 219, 172)]


def _material_kind(instrument: str) -> str:
    inst = BY_NAME[instrument]
    if inst.family == "strings":
        return "strings"
    if instrument in ("oboe", "clarinet", "bassoon"):
        return "dark_wood"
    if instrument == "flute":
        return "flute"
    return "lacquer"


def plan_style(instrument: str, split: str, rng: np.random.Generator) -> dict:
    """A player's look, drawn for a split (its background is one of the split's styles)."""
    mats = _MATERIALS[_material_kind(instrument)]
    rgb = lambda: [int(v) for v in rng.integers(0, 256, 3)]  # noqa: E731
    return {
        "background": str(rng.choice(STYLE_SPLITS[split])),
        "palette": [rgb(), rgb()],
        "material": [int(min(255, max(0, c + rng.integers(-18, 19)))) for c in mats[int(rng.integers(0, len(mats)))]],
        "scale": round(float(rng.uniform(0.88, 1.12)), 3),
        "aspect": round(float(rng.uniform(0.92, 1.08)), 3),
        "rotation": round(float(rng.uniform(-15, 15)), 2),
        "offset": [round(float(rng.uniform(-18, 18)), 1), round(float(rng.uniform(-12, 12)), 1)],
        "skin": list(_SKIN[int(rng.integers(0, len(_SKIN)))]),
        "shirt": rgb(),
        "stand": bool(rng.random() < 0.5),
        "light": round(float(rng.uniform(0.6, 1.3)), 3),
        "side_light": round(float(rng.uniform(-0.35, 0.35)), 3),
        "warmth": round(float(rng.uniform(-0.12, 0.12)), 3),
        "noise": round(float(rng.uniform(2, 8)), 2),
        "blur": round(float(rng.uniform(0, 1.0)), 2),
        "jpeg": int(rng.integers(35, 91)),
        "sway_hz": round(float(rng.uniform(0.15, 0.45)), 3),
        "seed": int(rng.integers(0, 2**31)),
    }


def _shade(color, k: float):
    return tuple(int(max(0, min(255, c * k))) for c in color)


@functools.lru_cache(maxsize=64)
def _background(kind: str, palette: tuple, seed: int, size: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    a, b = np.array(palette[0], float), np.array(palette[1], float)
    yy, xx = np.mgrid[0:size, 0:size] / size
    if kind == "gradient":
        img = a * (1 - yy[..., None]) + b * yy[..., None]
    elif kind == "stripes":
        period = rng.uniform(0.06, 0.15)
        m = (np.sin(2 * np.pi * (xx + yy * rng.uniform(-1, 1)) / period) > 0)[..., None]
        img = np.where(m, a, a * 0.7 + b * 0.3)
    elif kind == "checker":
        n = int(rng.integers(4, 10))
        m = (((xx * n).astype(int) + (yy * n).astype(int)) % 2 == 0)[..., None]
        floor = np.where(m, a, b)
        img = np.where((yy < 0.55)[..., None], a * 0.5 + b * 0.5, floor)
    elif kind == "noise":
        low = rng.uniform(0, 1, (8, 8, 1))
        t = np.asarray(Image.fromarray((low[..., 0] * 255).astype(np.uint8)).resize((size, size), Image.BICUBIC), float)[..., None] / 255
        img = a * (1 - t) + b * t
    elif kind == "room":
        img = np.where((yy < 0.6)[..., None], a, b * 0.8)
    elif kind == "curtain":
        folds = 0.75 + 0.25 * np.sin(2 * np.pi * xx * rng.uniform(6, 12))
        img = (a * 0.3 + np.array([150, 20, 30.0]) * 0.7) * folds[..., None]
    elif kind == "bokeh":
        img = np.zeros((size, size, 3)) + a * 0.45
    elif kind == "tiles":
        rows = int(rng.integers(8, 14))
        h = 1 / rows
        r = (yy / h).astype(int)
        shift = (r % 2) * 0.5 * h * 2
        m = (((yy % h) < 0.1 * h) | (((xx + shift) % (2 * h)) < 0.1 * h))[..., None]
        img = np.where(m, a * 0.4 + 140, b * 0.6 + np.array([120, 50, 40.0]) * 0.4)
    else:
        raise KeyError(kind)
    im = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(im)
    s = size / 224
    if kind == "bokeh":
        for _ in range(int(rng.integers(8, 16))):
            x, y, r = rng.uniform(0, size), rng.uniform(0, size), rng.uniform(6, 22) * s
            col = tuple(int(v) for v in (np.array(palette[1]) * 0.5 + rng.integers(100, 256, 3) * 0.5))
            d.ellipse([x - r, y - r, x + r, y + r], fill=col)
        im = im.filter(ImageFilter.GaussianBlur(4 * s))
    # clutter: chairs, frames, other stands, in muted colours
    for _ in range(int(rng.integers(2, 6))):
        x, y = rng.uniform(0, size), rng.uniform(0.3 * size, size)
        w, h = rng.uniform(12, 40) * s, rng.uniform(12, 50) * s
        col = tuple(int(v) for v in (np.array(palette[int(rng.integers(0, 2))]) * rng.uniform(0.4, 0.9)))
        if rng.random() < 0.5:
            d.rectangle([x, y, x + w, y + h], fill=col)
        else:
            d.ellipse([x, y, x + w, y + h], fill=col)
    return im


def _instrument_layer(instrument: str, state: PlayerState, style: dict, size: int, t: float) -> Image.Image:
    """The performer and the instrument on a transparent layer (before rotation)."""
    inst = BY_NAME[instrument]
    L = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    d = ImageDraw.Draw(L)
    s = size / 224 * style["scale"]
    cx, cy = size / 2, size / 2
    mat = tuple(style["material"])
    bright = (0.9 + 0.2 * state.onset) if state.active else 0.85
    col = _shade(mat, bright)
    dark = _shade(mat, 0.55)
    keys = (200, 200, 205)
    skin = tuple(style["skin"])
    shirt = tuple(style["shirt"])
    ax = style["aspect"]
    sway = 3 * math.sin(2 * math.pi * style["sway_hz"] * t)
    breath = 2 * state.onset if inst.family != "strings" else 0.0

    def P(x, y):
        return (cx + (x + sway) * s * ax, cy + (y - breath) * s)

    def ell(x0, y0, x1, y1, fill, outline=None):
        (a, b), (c, e) = P(x0, y0), P(x1, y1)
        d.ellipse([min(a, c), min(b, e), max(a, c), max(b, e)], fill=fill, outline=outline)

    def rect(x0, y0, x1, y1, fill):
        (a, b), (c, e) = P(x0, y0), P(x1, y1)
        d.rectangle([min(a, c), min(b, e), max(a, c), max(b, e)], fill=fill)

    def line(pts, fill, width):
        d.line([P(x, y) for x, y in pts], fill=fill, width=max(1, int(width * s)))

    # performer: torso and head behind the instrument
    ell(-38, -20, 38, 110, shirt)
    ell(-20, -72, 20, -28, skin)
    name = inst.name
    if inst.family == "strings":
        k = {"violin": 0.5, "viola": 0.57, "cello": 0.86, "double_bass": 1.05}[name]
        upright = name in ("cello", "double_bass")
        w, h = 70 * k, 120 * k
        ox, oy = (0, 20) if upright else (-30, -30)
        body = [(ox - w / 2, oy - h / 2), (ox + w / 2, oy + 0.05 * h)]
        ell(*body[0], *body[1], col, dark)
        ell(ox - w * 0.6, oy - 0.05 * h, ox + w * 0.6, oy + h / 2, col, dark)
        rect(ox - 4 * k, oy - h / 2 - 60 * k, ox + 4 * k, oy - h / 2 + 10, dark)
        line([(ox - w * 0.2, oy - 0.1 * h), (ox - w * 0.2, oy + 0.15 * h)], dark, 3)
        line([(ox + w * 0.2, oy - 0.1 * h), (ox + w * 0.2, oy + 0.15 * h)], dark, 3)
        # bow and bowing arm: the hand follows the stroke
        bx = state.bow * 40 * max(k, 0.6)
        hand = (ox + 30 + bx, oy + 0.12 * h)
        line([(ox - 60 + bx, oy + 0.12 * h + 6), (ox + 60 + bx, oy + 0.12 * h - 6)], (80, 60, 40), 3)
        line([(30, 0), hand], skin, 7)
        # fingering hand on the neck: moves with the pitch
        fy = oy - h / 2 - 55 * k + state.pitch * 55 * k
        line([(-30, 0), (ox - 6, fy)], skin, 7)
        ell(ox - 7, fy - 7, ox + 7, fy + 7, skin)
    elif name == "flute":
        rect(-95, -40, 95, -30, col)
        for i in range(6):
            x = -40 + i * 18
            ell(x - 4, -39, x + 4, -31, dark if state.active and i < 1 + 5 * state.pitch else keys)
        fx = -40 + 90 * state.pitch
        line([(-30, 0), (fx - 10, -35)], skin, 7)
        line([(30, 0), (fx + 20, -35)], skin, 7)
    elif name in ("oboe", "clarinet", "bassoon", "saxophone"):
        wd = {"oboe": 7, "clarinet": 9, "bassoon": 13, "saxophone": 9}[name]
        top, bot = (-60, 90) if name != "bassoon" else (-110, 95)
        rect(-wd, top, wd, bot, col)
        if name == "clarinet":
            d.polygon([P(-10, bot - 4), P(10, bot - 4), P(18, bot + 14), P(-18, bot + 14)], fill=col)
        elif name == "oboe":
            ell(-11, bot - 8, 11, bot + 10, col)
        elif name == "bassoon":
            rect(wd, -30, wd + 10, 70, dark)
            line([(-wd, top + 20), (-40, top + 5), (-45, top + 25)], (180, 170, 150), 3)
        else:  # saxophone: neck, curve and bell
            d.arc([*P(-10, bot - 30), *P(50, bot + 20)], 0, 180, fill=col, width=max(1, int(16 * s)))
            ell(28, bot - 55, 70, bot - 15, col)
        for i in range(6):
            y = top + 25 + i * (bot - top - 40) / 6
            ell(-4, y - 4, 4, y + 4, keys if state.active and i < 1 + 5 * state.pitch else dark)
        fy = bot - 20 - (bot - top - 40) * state.pitch
        line([(-30, 20), (-wd, fy)], skin, 7)
        line([(30, 20), (wd, fy + 30)], skin, 7)
    elif name in ("trumpet", "horn", "trombone", "tuba"):
        if name == "trumpet":
            rect(-20, -45, 90, -37, col)
            d.polygon([P(90, -45), P(125, -62), P(125, -20), P(90, -37)], fill=col)
            n_valves, vx, vy = 3, 20, -60
        elif name == "horn":
            ell(-50, -40, 50, 60, None, col)
            d.ellipse([*P(-50, -40), *P(50, 60)], outline=col, width=max(1, int(14 * s)))
            d.polygon([P(35, 40), P(85, 75), P(60, 95)], fill=col)
            n_valves, vx, vy = 3, -10, -10
        elif name == "trombone":
            ext = 20 + 70 * (1 - state.pitch)
            rect(-20, -45, 80, -39, col)
            rect(-20 - ext, -30, 60, -24, col)
            d.polygon([P(80, -48), P(120, -70), P(120, -14)], fill=col)
            line([(-30, 0), (-20 - ext, -27)], skin, 7)
            n_valves, vx, vy = 0, 0, 0
        else:
            rect(-30, -20, 30, 80, col)
            ell(-48, -90, 48, -30, col)
            ell(-30, -82, 30, -40, _shade(mat, 0.3 + 0.5 * state.onset if state.active else 0.3))
            n_valves, vx, vy = 4, -24, 10
        for i in range(n_valves):
            down = 6 if state.active and ((state.note_index >> i) & 1) else 0
            rect(vx + i * 14 - 4, vy + down, vx + i * 14 + 4, vy + 14 + down, dark)
        if n_valves:
            line([(30, 20), (vx + 14, vy + 16)], skin, 7)
    else:  # pragma: no cover
        raise KeyError(instrument)
    return L


def draw_scene(instrument: str, state: PlayerState, style: dict, t: float, frame: int, size: int = 224) -> np.ndarray:
    """One frame ``(size, size, 3)`` uint8 of a styled player in ``state`` at time ``t``."""
    bg = _background(style["background"], tuple(map(tuple, style["palette"])), style["seed"], size).copy()
    layer = _instrument_layer(instrument, state, style, size, t).rotate(style["rotation"], resample=Image.BILINEAR,
                                                                        translate=tuple(v * size / 224 for v in style["offset"]))
    bg.paste(layer, (0, 0), layer)
    d = ImageDraw.Draw(bg)
    s = size / 224
    if style["stand"]:  # a music stand in front of the player
        x = size * (0.25 + 0.5 * ((style["seed"] % 97) / 97))
        d.rectangle([x - 28 * s, size * 0.62, x + 28 * s, size * 0.74], fill=(35, 35, 38))
        d.rectangle([x - 2 * s, size * 0.74, x + 2 * s, size], fill=(35, 35, 38))
    img = np.asarray(bg, dtype=np.float64)
    xx = np.linspace(-1, 1, size)[None, :, None]
    gain = style["light"] * (1 + style["side_light"] * xx)
    warm = np.array([1 + style["warmth"], 1.0, 1 - style["warmth"]])[None, None, :]
    img = img * gain * warm
    rng = np.random.default_rng((style["seed"] + 7919 * frame) % 2**32)
    img = img + rng.normal(0, style["noise"], img.shape)
    im = Image.fromarray(np.clip(np.round(img), 0, 255).astype(np.uint8))
    if style["blur"] > 0.05:
        im = im.filter(ImageFilter.GaussianBlur(style["blur"] * s))
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=style["jpeg"])
    buf.seek(0)
    return np.asarray(Image.open(buf).convert("RGB"), dtype=np.uint8)


def styled_frames(notes, instrument: str, style: dict, start: float, n_frames: int, fps: float = 8.0,
                  size: int = 224) -> np.ndarray:
    """Frames of one styled player from ``start`` seconds.  Shape: ``(n_frames, size, size, 3)``."""
    out = np.empty((n_frames, size, size, 3), dtype=np.uint8)
    for k in range(n_frames):
        t = start + k / fps
        out[k] = draw_scene(instrument, player_state(notes, t, instrument), style, t, int(round(t * fps)), size)
    return out
