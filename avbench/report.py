"""Breakdowns and plots of scored submissions (matplotlib, PNG and SVG).

* one submission on a separation task: per-instrument box plots of SDR, SI-SDR and (when
  there are silent references) PES, SDR per number of sources, and the input SI-SDR
  against the SI-SDR improvement (as in the seed thesis' figures);
* one submission on a classification task: the confusion matrix and per-class F1;
* a task (every leaderboard entry with per-item scores): the main score per submission.

Each plot is written as ``<name>.png`` and ``<name>.svg``; a ``breakdown.csv`` holds the
numbers behind the per-instrument and per-number-of-sources plots.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .instruments import CLASSES
from .metrics import registry as M

#: one fixed colour per instrument, the same in every plot (13 distinct colours)
COLOURS = dict(zip(CLASSES, ["#1f77b4", "#aec7e8", "#17becf", "#393b79", "#2ca02c", "#98df8a", "#bcbd22",
                             "#8c564b", "#9467bd", "#d62728", "#ff7f0e", "#e377c2", "#7f7f7f"]))


def _file(name: str) -> str:
    """A file name without characters that need quoting (``hit@1`` -> ``hit_at_1``)."""
    return name.replace("@", "_at_")


def _label(metric: str) -> str:
    """``SDR [dB]``, ``Hit@1``: the metric's display label and unit."""
    from .metrics import METRICS
    from .leaderboard import label

    info = METRICS.get(metric)
    unit = f" [{info.unit}]" if info is not None and info.unit else ""
    return label(metric) + unit


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _write(path: Path, data: bytes | str) -> None:
    from .files import write_nofollow

    write_nofollow(path, data.encode() if isinstance(data, str) else data)


def _csv(frame: pd.DataFrame, path: Path) -> None:
    _write(path, frame.to_csv(index=False))


def _save(fig, out: Path, name: str) -> list[Path]:
    import matplotlib

    matplotlib.rcParams["svg.hashsalt"] = "avbench"  # stable element ids in the SVG
    import io

    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext in ("png", "svg"):
        p = out / f"{_file(name)}.{ext}"
        buf = io.BytesIO()  # rendered in memory, then written without following a link at the name
        fig.savefig(buf, format=ext, dpi=120, bbox_inches="tight", metadata={"Date": None} if ext == "svg" else None)
        _write(p, buf.getvalue())
        paths.append(p)
    _plt().close(fig)
    return paths


#: a box over fewer values than this also shows each value as a point
FEW_POINTS = 5


def _box(df: pd.DataFrame, metric: str, by: str, order: list, title: str, ylabel: str, out: Path, name: str,
         xlabel: str = "", apart: set | None = None, floor: float | None = None):
    """Box plots of ``metric`` per value of ``by`` in ``order`` (means marked), with the
    number of values under each box; boxes of instruments take their fixed colour.

    The axis always shows every box's whiskers; only values beyond both the whiskers and
    the 1st-99th percentile range (padded) are left off, counted in a note above the axes,
    where it covers no data.  A box over fewer than :data:`FEW_POINTS` values shows its
    points.  The values of ``apart`` (e.g. oracle rows) come last, after a dashed line.  A
    plot whose every value is ``floor`` (the task's dB floor of an SDR-family metric) says so."""
    plt = _plt()
    groups = [(k, df.loc[df[by] == k, metric].replace([np.inf, -np.inf], np.nan).dropna().to_numpy()) for k in order]
    groups = [(k, v) for k, v in groups if v.size]
    if apart:
        groups = [g for g in groups if g[0] not in apart] + [g for g in groups if g[0] in apart]
    if not groups:
        return []
    fig, ax = plt.subplots(figsize=(max(5, 0.6 * len(groups) + 2), 4))
    bp = ax.boxplot([v for _, v in groups], showmeans=True, patch_artist=True)
    for patch, (k, _) in zip(bp["boxes"], groups):
        patch.set_facecolor(COLOURS.get(str(k), "#dddddd"))
        patch.set_alpha(0.6)
    for x, (_, v) in enumerate(groups, start=1):
        if v.size < FEW_POINTS:
            ax.plot(np.full(v.size, x), v, ls="", marker=".", color="#333", ms=5, zorder=3)
    n_apart = sum(1 for k, _ in groups if apart and k in apart)
    if n_apart and n_apart < len(groups):
        ax.axvline(len(groups) - n_apart + 0.5, color="#888", ls="--", lw=0.8)
    many = len(groups) > 6
    ax.set_xticks(range(1, len(groups) + 1), [f"{k}\nn={v.size}" for k, v in groups], rotation=45 if many else 0,
                  ha="right" if many else "center", fontsize=8)
    allv = np.concatenate([v for _, v in groups])
    whisk = np.concatenate([w.get_ydata() for w in bp["whiskers"]]) if bp["whiskers"] else allv
    lo, hi = np.percentile(allv, [1, 99])
    lo, hi = min(lo, float(np.min(whisk))), max(hi, float(np.max(whisk)))
    pad = max(1.0, 0.1 * (hi - lo))
    outside = int(((allv < lo - pad) | (allv > hi + pad)).sum())
    notes = []
    if outside:  # a few extreme values must not flatten every box: they are counted instead
        ax.set_ylim(lo - pad, hi + pad)
        notes.append(f"{outside} value(s) beyond the axis")
    if floor is not None and np.all(np.abs(allv - floor) < 1e-9):
        notes.append(f"every value is at the floor ({floor:g}): nothing here was separated")
    if notes:  # above the axes, right-aligned: it never covers a box
        ax.annotate("; ".join(notes), xy=(1.0, 1.01), xycoords="axes fraction", ha="right", va="bottom",
                    fontsize=7, color="#555")
    ax.set_ylabel(ylabel)
    if xlabel:
        ax.set_xlabel(xlabel)
    ax.set_title(title, pad=14 if notes else 6)
    ax.grid(axis="y", alpha=0.3)
    from matplotlib.lines import Line2D

    ax.legend(handles=[Line2D([], [], color=bp["medians"][0].get_color(), label="median"),
                       Line2D([], [], ls="", marker=bp["means"][0].get_marker(), color=bp["means"][0].get_markerfacecolor(),
                              label="mean")], fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return _save(fig, out, name)


def _binned_median(x: np.ndarray, y: np.ndarray, width: float = 3.0, min_n: int = 5):
    """Median of ``y`` in bins of ``x`` ``width`` dB wide (bins with at least ``min_n`` points):
    the trend a scatter of many points hides."""
    if x.size < 2 * min_n:
        return None
    edges = np.arange(np.floor(x.min() / width) * width, x.max() + width, width)
    k = np.digitize(x, edges)
    cx, cy = [], []
    for b in np.unique(k):
        m = k == b
        if m.sum() >= min_n:
            cx.append(float(np.median(x[m])))
            cy.append(float(np.median(y[m])))
    return (cx, cy) if len(cx) >= 2 else None


def separation_report(df: pd.DataFrame, out: Path, title: str, floor: float | None = None) -> list[Path]:
    out = Path(out)
    written: list[Path] = []
    order = [c for c in CLASSES if c in set(df["slot"])]
    for m in M.in_report("separation", "instrument"):
        label = f"{m.label} [{m.unit}]"
        if m.name in df and df[m.name].notna().any():
            written += _box(df, m.name, "slot", order, f"{title}: {label} per instrument", label, out,
                            f"{m.name}_per_instrument", floor=floor)
    for m in M.in_report("separation", "n_sources"):
        label = f"{m.label} [{m.unit}]"
        if m.name in df:
            written += _box(df, m.name, "n_sources", sorted(set(df["n_sources"])),
                            f"{title}: {m.label} per number of sources", label, out, f"{m.name}_per_n_sources",
                            xlabel="sources in the mixture", floor=floor)
    for m in M.in_report("separation", "versus_input"):
        written += _versus_input(df, m, order, out, title)
    rows = []
    for by in ("slot", "n_sources"):
        for k, g in df.groupby(by, sort=True):
            # one n per metric: the values its mean and median are over (the sounding
            # sources for the SDR family, the absent slots for PES), as under the plots' boxes
            row = {"by": by, "value": k, "n_slots": len(g)}
            for m in (m.name for m in M.in_report("separation", "breakdown")):
                if m in g:
                    v = g[m].replace([np.inf, -np.inf], np.nan)
                    row[f"{m}_n"] = int(v.notna().sum())
                    row[f"{m}_mean"] = v.mean()
                    row[f"{m}_median"] = v.median()
            rows.append(row)
    out.mkdir(parents=True, exist_ok=True)
    _csv(pd.DataFrame(rows), out / "breakdown.csv")
    written.append(out / "breakdown.csv")
    return written


def _versus_input(df: pd.DataFrame, m, order: list[str], out: Path, title: str) -> list[Path]:
    """An improvement metric against the mixture's score on its base, one point per
    (item, slot), with the median trend."""
    base = M.METRICS[m.improvement_of]
    x_name = M.mixture_metric(base.name).name
    if x_name not in df or m.name not in df or not df[m.name].notna().any():
        return []
    plt = _plt()
    d = df[np.isfinite(df[x_name]) & np.isfinite(df[m.name])]
    fig, ax = plt.subplots(figsize=(5, 4))
    fig.set_size_inches(6.5, 4)
    for inst in order:
        s = d[d["slot"] == inst]
        if len(s):
            ax.scatter(s[x_name], s[m.name], s=10, label=inst, alpha=0.6, color=COLOURS.get(inst),
                       linewidths=0)
    trend = _binned_median(d[x_name].to_numpy(), d[m.name].to_numpy())
    if trend is not None:  # the median improvement per 3 dB of input, over every instrument
        ax.plot(*trend, color="k", lw=1.6, marker="o", ms=3, label="median (3 dB bins)")
    ax.axhline(0, color="#555", lw=0.8, ls="--")
    lo, hi = ax.get_ylim()
    if hi - lo < 2.0:  # never magnify floating-point noise: at least 2 dB of axis
        mid = (hi + lo) / 2
        ax.set_ylim(mid - 1.0, mid + 1.0)
    ax.set_xlabel(f"input {base.label} [{base.unit}]")
    ax.set_ylabel(f"{base.label} improvement [{base.unit}]")
    ax.set_title(f"{title}: improvement vs input")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, markerscale=2,
              title=f"n = {len(d)}", title_fontsize=7)
    return _save(fig, out, f"{m.name}_vs_input")


def classification_report(df: pd.DataFrame, classes: list[str], out: Path, title: str) -> list[Path]:
    from .metrics import confusion, f1_score

    plt = _plt()
    out = Path(out)
    y = np.array([classes.index(c) for c in df["label"]])
    p = np.array([classes.index(c) for c in df["pred"]])
    C = confusion(p, y, len(classes))
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    im = ax.imshow(C, cmap="Blues")
    ax.set_xticks(range(len(classes)), classes, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(classes)), classes, fontsize=8)
    for i in range(len(classes)):
        for j in range(len(classes)):
            if C[i, j]:
                ax.text(j, i, str(C[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if C[i, j] > C.max() / 2 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"{title}: confusion matrix")
    fig.colorbar(im, ax=ax, fraction=0.046)
    written = _save(fig, out, "confusion_matrix")
    per = f1_score(p, y, len(classes), average=None)
    support = np.bincount(y, minlength=len(classes))
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    has = support > 0
    colours = [COLOURS.get(c, "#4c72b0") for c in classes]
    ax.bar(np.flatnonzero(has), per[has], color=[colours[k] for k in np.flatnonzero(has)])
    ax.bar(np.flatnonzero(~has), np.ones(int((~has).sum())), color="none", edgecolor="#bbbbbb", hatch="//")
    for k in range(len(classes)):  # support above every bar; classes without items say so
        ax.text(k, (per[k] if has[k] else 1.0) + 0.02, f"n={support[k]}" if has[k] else "no items",
                ha="center", va="bottom", fontsize=6, rotation=90 if not has[k] else 0)
    ax.set_xticks(range(len(classes)), classes, rotation=60, ha="right", fontsize=8)
    ax.set_ylim(0, 1.25)
    ax.set_ylabel("F1")
    ax.set_title(f"{title}: per-class F1 (n = test items of the class)")
    written += _save(fig, out, "per_class_f1")
    _csv(pd.DataFrame({"class": classes, "f1": per, "support": support}), out / "per_class.csv")
    written.append(out / "per_class.csv")
    return written


def task_report(frames: dict[str, pd.DataFrame], metric: str, out: Path, title: str,
                conditioning: dict[str, str] | None = None, seeds: dict[str, list[str]] | None = None,
                oracles: set[str] | None = None, floor: float | None = None) -> list[Path]:
    """The main metric per model and per conditioning type (the inputs each submission
    declares: mixture only, labels, frames, ...), as box plots and a table.

    ``seeds``: row name -> its seed entries (:mod:`avbench.leaderboard.seeds`); a model's
    seeds are one box, of its per-item seed means.  ``oracles``: rows drawn apart, after the
    ranked ones.  The per-conditioning plot has one value per model (its mean), so a model
    with many items or seeds weighs as much as any other."""
    from .leaderboard.seeds import seed_mean_frame

    conditioning = conditioning or {}
    seeds = seeds or {n: [n] for n in frames}
    rows = []
    for name, members in sorted(seeds.items()):
        fs = [frames[m] for m in members if m in frames and metric in frames[m]]
        if not fs or len(fs) < len(members):
            continue
        df = fs[0] if len(fs) == 1 else seed_mean_frame(fs, metric)
        rows.append(pd.DataFrame({"submission": name, "conditioning": conditioning.get(members[0], "unknown"),
                                  metric: df[metric].to_numpy(), "seeds": len(fs)}))
    if not rows:
        return []
    out = Path(out)
    d = pd.concat(rows, ignore_index=True)
    from .metrics import METRICS

    hib = METRICS[metric].higher_is_better if metric in METRICS else True
    v = d.replace([np.inf, -np.inf], np.nan)
    means = v.groupby("submission")[metric].mean()
    ranked = sorted(means.index, key=lambda n: (-(means.get(n, -np.inf)) if hib else means.get(n, np.inf), n))
    written = _box(d, metric, "submission", ranked, f"{title}: {_label(metric)} per model (best first)",
                   _label(metric), out, f"{metric}_per_submission", apart=set(oracles or ()), floor=floor)
    per_model = (v.groupby(["conditioning", "submission"])[metric].mean().reset_index())
    kinds = sorted(set(per_model["conditioning"]))
    written += _box(per_model, metric, "conditioning", kinds,
                    f"{title}: mean {_label(metric)} per model, by conditioning type",
                    _label(metric), out, f"{metric}_per_conditioning", xlabel="inputs the submission declares",
                    floor=floor)
    table = (v.groupby(["conditioning", "submission"]).agg(mean=(metric, "mean"), median=(metric, "median"),
                                                           count=(metric, "count"), seeds=("seeds", "first"))
             .reset_index())
    out.mkdir(parents=True, exist_ok=True)
    _csv(table, out / "by_conditioning.csv")
    written.append(out / "by_conditioning.csv")
    return written
