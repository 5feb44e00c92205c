"""Timbre-informed NMF (Carabias-Orti et al. 2013 style) with fixed per-pitch templates."""
