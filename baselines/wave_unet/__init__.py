"""Exp- and CExp-Wave-U-Net (end-to-end separation conditioned on instrument labels)."""
