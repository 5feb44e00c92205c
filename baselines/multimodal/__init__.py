"""Multimodal instrument classifier: audio CNNs (Choi, Han), a frame CNN and late fusion."""
from .infer import BASELINES  # noqa: F401
