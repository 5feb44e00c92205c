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
if [[ "${1:-}" == "test" ]]; then
  # museval's BSS Eval v4 is a test reference only; its package imports musdb (not needed:
  # the tests load museval/metrics.py on its own)
  python -m pip install --no-deps "museval==0.4.1"
fi
