#!/usr/bin/env bash
# Train (or reuse) the multimodal classifier's stages with each seed, score every model on
# synth-ensembles-classification (one entry per seed: NAME, NAME.s1, NAME.s2), then write the
# analyses and the claim table.
#   scripts/multimodal_leaderboards.sh [VERSION] [LEADERBOARDS_DIR] [CONFIG] [SEEDS]
# A CONFIG other than cpu (the committed reference rows) writes entries of its own,
# NAME.CONFIG, NAME.CONFIG.s1, ... (python -m baselines.names), beside the reference rows.
# Prints the wall time of every seed's training and scoring.  Checkpoints go to
# $AVBENCH_HOME/baselines/multimodal/<config>@<version>/ (seed 0) and .../s<seed>/.
set -euo pipefail
version="${1:-3}"
lbdir="${2:-leaderboards}"
export AVBENCH_MM_CONFIG="${3:-cpu}"
seeds="${4:-0,1,2}"
case "$version" in 3-mini) config=mini2 ;; 3) config=full2 ;; *mini) config=mini ;; *) config=full ;; esac
results=baselines/multimodal/results; [[ "$version" != 1 ]] && results="$results/$version"
subs="${AVBENCH_HOME:-$HOME/.cache/avbench}/multimodal-submissions/$version"
models=$(python -c "from baselines.multimodal.infer import MODELS; print(' '.join(MODELS))")
avbench data generate synth-ensembles --config "$config" --quiet
for s in ${seeds//,/ }; do
  t0=$(date +%s)
  python -m baselines.multimodal.train --config "$AVBENCH_MM_CONFIG" --version "$version" --seed "$s"
  t1=$(date +%s)
  for b in $models; do
    name=$(python -m baselines.names "$b" "$s" "$AVBENCH_MM_CONFIG")
    avbench baseline run "$name" --task "synth-ensembles-classification@$version" --out "$subs/$name" --quiet
    avbench score "$subs/$name" --update-leaderboard --replace --leaderboards "$lbdir" --quiet
  done
  echo "seed $s: training $((t1 - t0)) s, inference and scoring $(($(date +%s) - t1)) s"
done
avbench leaderboard build --leaderboards "$lbdir" --quiet
python -m baselines.multimodal.analysis --config "$AVBENCH_MM_CONFIG" --version "$version" --seeds "$seeds" \
  --out "$results" --leaderboards "$lbdir" > /dev/null
