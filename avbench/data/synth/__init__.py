"""``synth-ensembles``: the built-in, generated audio-visual chamber-ensemble benchmark.

Real multi-part works from the music21 corpus are assigned to the 13 URMP instruments,
transposed by octaves into each instrument's playing range and rendered part by part
with the General MIDI soundfont that ships with pretty_midi (TimGM6mb.sf2) through
tinysoundfont.  One stem per player; the mixture is the exact float32 sum of the stems
(added in slot order).  Audio is written as 11025 Hz mono float32 WAV (44100 Hz on
request).  Video frames are a deterministic function of the notes (:mod:`avbench.video`; data version 2 styles them, :mod:`.scenes`).

Generation is deterministic: a configuration (``mini`` or ``full``) and the generator
version fully decide every byte; the manifest records the sha256 of every file.

Layout under ``$AVBENCH_HOME/data/synth-ensembles/<version>/``::

    dataset.json                  configuration, generator version, manifest sha256
    manifest.jsonl                one row per recording (ensembles and solos)
    audio/<recording>/mix.wav     mixture (exact sum of the stems)
    audio/<recording>/<inst>.wav  one stem per player
    notes/<recording>.json        the notes each player plays (seconds, MIDI keys)

The package, one job per module: :mod:`.config` (what decides a version), :mod:`.corpus`
(the works and the plan of every recording), :mod:`.render` (data version 1: the
soundfont), :mod:`.timbres` (data version 2: held-out timbres and styles, with
:mod:`.soundfonts`, :mod:`.additive`, :mod:`.performance` and :mod:`.scenes`) and
:mod:`.generate` (generation and loading).
"""
from .config import (NAME, GENERATOR_VERSION, RENDER_RATE, SEGMENT, Config, CONFIGS, GENERATOR_VERSIONS, generation,
                     config_name, config_for, config_names)
from .corpus import (select_works, parse_work, PlayerPlan, RecordingPlan, plan)
from .render import (soundfont_path, sounding_keys, instrument_gains, player_notes, render_player)
from .timbres import (timbre_tables, plan_timbre, plan_style, render_part_v2)
from .generate import (library_versions, generate, locate, read_manifest, verify, load_notes, load, _render_recording)  # noqa: F401

__all__ = ["CONFIGS", "Config", "GENERATOR_VERSION", "GENERATOR_VERSIONS", "NAME", "PlayerPlan", "RENDER_RATE",
           "RecordingPlan", "SEGMENT", "config_for", "config_name", "config_names", "generate", "generation",
           "instrument_gains", "library_versions", "load", "load_notes", "locate", "parse_work", "plan", "plan_style",
           "plan_timbre", "player_notes", "read_manifest", "render_part_v2", "render_player", "select_works",
           "soundfont_path", "sounding_keys", "timbre_tables", "verify"]
