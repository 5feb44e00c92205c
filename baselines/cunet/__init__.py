"""Conditioned U-Nets and Multi-Head U-Nets (label, visual and motion conditioning)."""
from .infer import BASELINES  # noqa: F401
