#!/usr/bin/env bash
# Train (or reuse) every conditioned U-Net / MHU-Net variant, score each on
# synth-ensembles-separation and add them to the leaderboard.
#   scripts/cunet_leaderboards.sh [VERSION] [LEADERBOARDS_DIR] [CONFIG]
set -euo pipefail
version="${1:-1}"
lbdir="${2:-leaderboards}"
export AVBENCH_CUNET_CONFIG="${3:-cpu}"
config=full; [[ "$version" == *mini ]] && config=mini
subs="${AVBENCH_HOME:-$HOME/.cache/avbench}/cunet-submissions/$version"
avbench data generate synth-ensembles --config "$config" --quiet
python -m baselines.cunet.train --variant all --config "$AVBENCH_CUNET_CONFIG" --version "$version"
for b in $(python -c "from baselines.cunet.train import variants; print(' '.join(variants()))"); do
  avbench baseline run "$b" --task "synth-ensembles-separation@$version" --out "$subs/$b" --quiet
  avbench score "$subs/$b" --update-leaderboard --replace --leaderboards "$lbdir" --quiet
done
avbench leaderboard build --leaderboards "$lbdir" --quiet
