"""Conditioned U-Nets and Multi-Head U-Nets (label, visual and motion conditioning)."""
