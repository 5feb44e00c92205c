"""Sound-of-Pixels and Object-Prior (mix-and-separate audio-visual separation)."""
