"""avbench: benchmark and leaderboard suite for audio-visual music analysis."""
from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("avbench")
except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
    __version__ = "0.1.0"
