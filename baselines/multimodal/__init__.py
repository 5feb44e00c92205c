"""Multimodal instrument classifier: audio CNNs (Choi, Han, Xception), a frame CNN and late fusion."""
