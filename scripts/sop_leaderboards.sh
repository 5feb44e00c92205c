#!/usr/bin/env bash
# Train (or reuse) Sound-of-Pixels and Object-Prior with each seed, score them on
# synth-ensembles-mix2 (one entry per seed: NAME, NAME.s1, NAME.s2), rebuild the pages and
# write the paper's analyses and the claim table.
#   scripts/sop_leaderboards.sh [VERSION] [LEADERBOARDS_DIR] [CONFIG] [SEEDS] [MODELS]
# A CONFIG other than cpu (the committed reference rows) writes entries of its own,
# NAME.CONFIG, NAME.CONFIG.s1, ... (python -m baselines.names), beside the reference rows.
#   SEEDS: comma-separated (default 0,1,2); MODELS: default sound-of-pixels,object-prior
# Prints the wall time of every training and scoring.  Checkpoints go to
# $AVBENCH_HOME/baselines/sop/<config>@<version>/<model>[.s<seed>].pt.
set -euo pipefail
version="${1:-3}"
lbdir="${2:-leaderboards}"
export AVBENCH_SOP_CONFIG="${3:-cpu}"
seeds="${4:-0,1,2}"
models="${5:-sound-of-pixels,object-prior}"
case "$version" in 3-mini) config=mini2 ;; 3) config=full2 ;; *mini) config=mini ;; *) config=full ;; esac
subs="${AVBENCH_HOME:-$HOME/.cache/avbench}/sop-submissions/$version"
avbench data generate synth-ensembles --config "$config" --quiet
for s in ${seeds//,/ }; do
  for b in ${models//,/ }; do
    kind=sop; [[ "$b" == object-prior ]] && kind=object-prior
    name=$(python -m baselines.names "$b" "$s" "$AVBENCH_SOP_CONFIG")
    t0=$(date +%s)
    python -m baselines.sop.train --model "$kind" --seed "$s" --config "$AVBENCH_SOP_CONFIG" --version "$version"
    t1=$(date +%s)
    avbench baseline run "$name" --task "synth-ensembles-mix2@$version" --out "$subs/$name" --quiet
    avbench score "$subs/$name" --update-leaderboard --replace --leaderboards "$lbdir" --quiet ${AVBENCH_SCORE_WORKERS:+--workers $AVBENCH_SCORE_WORKERS}
    echo "$name: training $((t1 - t0)) s, separation and scoring $(($(date +%s) - t1)) s"
  done
done
avbench leaderboard build --leaderboards "$lbdir" --quiet
