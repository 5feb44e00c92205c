"""Conditioned U-Nets and Multi-Head U-Nets (label, visual and motion conditioning).

``BASELINES`` is loaded on first use, so that the networks (``baselines.cunet.model``)
import with PyTorch alone."""


def __getattr__(name: str):
    if name == "BASELINES":
        from .infer import BASELINES

        return BASELINES
    raise AttributeError(name)
