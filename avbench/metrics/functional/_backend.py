"""Array plumbing shared by the metric kernels: numpy or torch in, the same out."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch


def to_tensor(x: Any, name: str) -> tuple[torch.Tensor, bool]:
    """Return ``(float64 tensor, was_numpy)``; torch tensors keep their device."""
    if isinstance(x, torch.Tensor):
        if x.is_complex():
            raise ValueError(f"{name} must be real, got a complex tensor")
        return x.detach().to(torch.float64), False
    arr = np.asarray(x)
    if arr.dtype == object or np.iscomplexobj(arr):
        raise ValueError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    out = np.ascontiguousarray(arr, dtype=np.float64)
    if not out.flags.writeable:  # e.g. a broadcast view: torch wants writable memory
        out = out.copy()
    return torch.from_numpy(out), True


def back(x: torch.Tensor, as_numpy: bool) -> Any:
    if as_numpy:
        return x.cpu().numpy()
    return x


def check_finite(x: torch.Tensor, name: str) -> None:
    if not bool(torch.isfinite(x).all()):
        bad = (~torch.isfinite(x)).nonzero()[0].tolist()
        raise ValueError(f"{name} contains NaN or inf (first at index {tuple(bad)})")


def item_label(index: tuple[int, ...]) -> str:
    return "item " + ",".join(str(i) for i in index) if index else "the input"
