"""What decides a data version of ``synth-ensembles``: the configurations and their generations."""
from __future__ import annotations

import re
from dataclasses import dataclass


from ...errors import DataError

NAME = "synth-ensembles"
GENERATOR_VERSION = "1.0.0"
RENDER_RATE = 44100
SEGMENT = 65535


@dataclass(frozen=True)
class Config:
    """What decides a data version."""

    version: str
    #: corpus pools: (music21 composer, number of works to take)
    pools: tuple[tuple[str, int], ...]
    segments_per_recording: int
    solos_per_work: int
    sample_rate: int = 11025
    seed: int = 20261122
    split_fractions: tuple[float, float, float] = (0.7, 0.1, 0.2)  # train, val, test

    @property
    def n_samples(self) -> int:
        return self.segments_per_recording * SEGMENT * self.sample_rate // 11025


CONFIGS: dict[str, Config] = {
    "mini": Config("1-mini", (("bach", 7), ("monteverdi", 2), ("trecento", 3)), 2, 5),
    "full": Config(
        "1",
        (("bach", 130), ("monteverdi", 40), ("palestrina", 40), ("trecento", 30),
         ("haydn", 8), ("mozart", 12)),
        4,
        3,
    ),
    # version 2: the same works, splits and players, played by held-out timbres
    # (avbench.data.synth.soundfonts) with expressive timing, dynamics, vibrato and articulation
    # (avbench.data.synth.performance)
    "mini2": Config("2-mini", (("bach", 7), ("monteverdi", 2), ("trecento", 3)), 2, 5),
    "full2": Config(
        "2",
        (("bach", 130), ("monteverdi", 40), ("palestrina", 40), ("trecento", 30),
         ("haydn", 8), ("mozart", 12)),
        4,
        3,
    ),
}

#: generator version of each data generation
GENERATOR_VERSIONS = {1: GENERATOR_VERSION, 2: "2.0.0"}


def generation(cfg: Config) -> int:
    """The data generation of a configuration: 1 (one soundfont) or 2 (held-out timbres)."""
    return int(cfg.version.split("-")[0])


def config_name(cfg: Config) -> str:
    """The configuration's name (``mini``, ``full``, ``mini2``, ``full2``)."""
    base = re.sub(r"-\d{4,}$", "", cfg.version)  # a version stored at another rate: <version>-<rate>
    return next(n for n, c in CONFIGS.items() if c.version == base)


def config_for(version_or_name: str) -> Config:
    for name, c in CONFIGS.items():
        if version_or_name in (name, c.version):
            return c
    raise DataError(f"unknown {NAME} version {version_or_name!r}",
                    fix=f"use one of {', '.join(sorted(CONFIGS))} ({', '.join(c.version for c in CONFIGS.values())})")


def config_names() -> list[str]:
    """The configurations, the newest data generation first and the smaller first within
    one (``mini2, full2, mini, full``): the CLI's choices, from :data:`CONFIGS` alone."""
    return sorted(CONFIGS, key=lambda n: (-generation(CONFIGS[n]), sum(k for _, k in CONFIGS[n].pools)))
