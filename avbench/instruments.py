"""Canonical instrument taxonomy.

The 13 URMP instruments are avbench's canonical classes and, in this fixed order,
the output slots of every separation task.  Other datasets' names map onto them
through :data:`ALIASES`; names outside the 13 (accordion, guitar, piano, ...)
are kept as *extended* labels and are used only by the classification tasks of
the datasets that have them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Instrument:
    name: str          #: canonical snake_case name
    abbr: str          #: URMP abbreviation
    family: str        #: strings / woodwinds / brass
    gm_program: int    #: General MIDI program (0-based)
    low: int           #: lowest MIDI key used when rendering
    high: int          #: highest MIDI key used when rendering
    color: tuple[int, int, int]  #: colour of the procedural video drawing


INSTRUMENTS: tuple[Instrument, ...] = (
    Instrument("violin", "vn", "strings", 40, 55, 93, (196, 98, 45)),
    Instrument("viola", "va", "strings", 41, 48, 84, (150, 70, 40)),
    Instrument("cello", "vc", "strings", 42, 36, 72, (120, 55, 30)),
    Instrument("double_bass", "db", "strings", 43, 28, 55, (80, 45, 25)),
    Instrument("flute", "fl", "woodwinds", 73, 60, 91, (200, 200, 210)),
    Instrument("oboe", "ob", "woodwinds", 68, 58, 86, (40, 30, 30)),
    Instrument("clarinet", "cl", "woodwinds", 71, 50, 86, (20, 20, 20)),
    Instrument("bassoon", "bn", "woodwinds", 70, 34, 69, (110, 40, 40)),
    Instrument("saxophone", "sax", "woodwinds", 65, 49, 77, (212, 175, 55)),
    Instrument("trumpet", "tpt", "brass", 56, 55, 82, (230, 190, 60)),
    Instrument("horn", "hn", "brass", 60, 41, 74, (200, 150, 50)),
    Instrument("trombone", "tbn", "brass", 57, 40, 70, (220, 170, 80)),
    Instrument("tuba", "tba", "brass", 58, 28, 58, (170, 130, 60)),
)

#: canonical class names, in slot order
CLASSES: tuple[str, ...] = tuple(i.name for i in INSTRUMENTS)
BY_NAME = {i.name: i for i in INSTRUMENTS}
BY_ABBR = {i.abbr: i for i in INSTRUMENTS}

#: names used by other datasets -> canonical name (lower-cased keys)
ALIASES: dict[str, str] = {
    # URMP abbreviations
    **{i.abbr: i.name for i in INSTRUMENTS},
    # Solos / MUSIC / FCVID / YouTube-8M spellings
    "doublebass": "double_bass", "double bass": "double_bass", "contrabass": "double_bass",
    "french horn": "horn", "frenchhorn": "horn",
    "sax": "saxophone", "alto saxophone": "saxophone", "drum": "drums", "horn": "horn",
}

#: labels outside the 13 slots that real datasets use (extended taxonomy)
EXTENDED: tuple[str, ...] = (
    "accordion", "acoustic_guitar", "guitar", "erhu", "xylophone", "piano", "organ",
    "drums", "banjo", "harmonica", "bagpipe", "congas", "electric_bass", "guzheng",
    "pipa", "ukulele", "chamber_music", "symphony_orchestra", "rock_band", "harp", "marimba",
    "electric_guitar",
)


def canonical(name: str) -> str:
    """Map a dataset's instrument name onto avbench's canonical name.

    Raises ``KeyError`` for names that are neither canonical, aliased nor extended.
    """
    key = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name.strip()).lower().replace("-", " ").replace("_", " ")
    key = key.removesuffix(" performance")  # FCVID's "violinPerformance", ...
    if key.replace(" ", "_") in BY_NAME:
        return key.replace(" ", "_")
    if key in ALIASES:
        return ALIASES[key]
    if key.replace(" ", "_") in EXTENDED:
        return key.replace(" ", "_")
    raise KeyError(f"unknown instrument name {name!r}")


def slot(name: str) -> int:
    """Index of a canonical instrument in the 13 output slots."""
    return CLASSES.index(canonical(name))
