#!/usr/bin/env bash
# Train (or reuse) the multimodal classifier on synth-ensembles, score its four variants on
# synth-ensembles-classification and add them to the leaderboard; write the analyses.
#   scripts/multimodal_leaderboards.sh [VERSION] [LEADERBOARDS_DIR] [CONFIG]
set -euo pipefail
version="${1:-1}"
lbdir="${2:-leaderboards}"
export AVBENCH_MM_CONFIG="${3:-cpu}"
config=full; [[ "$version" == *mini ]] && config=mini
[[ "$version" == 3* ]] && config="${config}2"  # versions 3, 3-mini: data version 2
results=baselines/multimodal/results; [[ "$version" != 1 ]] && results="$results/$version"
subs="${AVBENCH_HOME:-$HOME/.cache/avbench}/multimodal-submissions/$version"
avbench data generate synth-ensembles --config "$config" --quiet
python -m baselines.multimodal.train --config "$AVBENCH_MM_CONFIG" --version "$version"
for b in mm-audio-choi mm-audio-han mm-video mm-av; do
  avbench baseline run "$b" --task "synth-ensembles-classification@$version" --out "$subs/$b" --quiet
  avbench score "$subs/$b" --update-leaderboard --replace --leaderboards "$lbdir" --quiet
  avbench report "$b" --task "synth-ensembles-classification@$version" --leaderboards "$lbdir" \
    --out "$results/$b" --quiet
done
python -m baselines.multimodal.analysis --config "$AVBENCH_MM_CONFIG" --version "$version" --out "$results"
avbench leaderboard build --leaderboards "$lbdir" --quiet
