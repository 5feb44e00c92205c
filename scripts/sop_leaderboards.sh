#!/usr/bin/env bash
# Train (or reuse) Sound-of-Pixels and Object-Prior, score them on synth-ensembles-mix2,
# add them to the leaderboard and write the paper's analyses.
#   scripts/sop_leaderboards.sh [VERSION] [LEADERBOARDS_DIR] [CONFIG]
set -euo pipefail
version="${1:-1}"
lbdir="${2:-leaderboards}"
export AVBENCH_SOP_CONFIG="${3:-cpu}"
config=full; [[ "$version" == *mini ]] && config=mini
subs="${AVBENCH_HOME:-$HOME/.cache/avbench}/sop-submissions/$version"
avbench data generate synth-ensembles --config "$config" --quiet
python -m baselines.sop.train --model object-prior --config "$AVBENCH_SOP_CONFIG" --version "$version"
python -m baselines.sop.train --model sop --config "$AVBENCH_SOP_CONFIG" --version "$version"
for b in sound-of-pixels object-prior; do
  avbench baseline run "$b" --task "synth-ensembles-mix2@$version" --out "$subs/$b" --quiet
  avbench score "$subs/$b" --update-leaderboard --replace --leaderboards "$lbdir" --quiet
done
python -m baselines.sop.analysis all --config "$AVBENCH_SOP_CONFIG" --version "$version"
avbench leaderboard build --leaderboards "$lbdir" --quiet
