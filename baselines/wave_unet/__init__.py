"""Exp- and CExp-Wave-U-Net (end-to-end separation conditioned on instrument labels)."""
from .infer import BASELINES  # noqa: F401
