#!/usr/bin/env bash
# Train (or reuse) conditioned U-Net / MHU-Net variants with each seed, score each on
# synth-ensembles-separation and add them to the leaderboard (one entry per seed:
# VARIANT, VARIANT.s1, VARIANT.s2), then rebuild the pages and the claims table.
#   scripts/cunet_leaderboards.sh [VERSION] [LEADERBOARDS_DIR] [CONFIG] [VARIANTS] [SEEDS]
# A CONFIG other than cpu (the committed reference rows) writes entries of its own,
# NAME.CONFIG, NAME.CONFIG.s1, ... (python -m baselines.names), beside the reference rows.
#   VARIANTS: comma-separated (default: all); SEEDS: comma-separated (default 0,1,2)
# AVBENCH_SCORE_WORKERS sets the scoring processes.  Prints the wall time of every training and scoring.  Checkpoints go to
# $AVBENCH_HOME/baselines/cunet/<config>@<version>/<variant>.s<seed>.pt.
set -euo pipefail
version="${1:-3}"
lbdir="${2:-leaderboards}"
export AVBENCH_CUNET_CONFIG="${3:-cpu}"
variants="${4:-all}"
seeds="${5:-0,1,2}"
case "$version" in 3-mini) config=mini2 ;; 3) config=full2 ;; *mini) config=mini ;; *) config=full ;; esac
subs="${AVBENCH_HOME:-$HOME/.cache/avbench}/cunet-submissions/$version"
avbench data generate synth-ensembles --config "$config" --quiet
[[ "$variants" == all ]] && variants=$(python -c "from baselines.cunet.train import variants; print(','.join(variants()))")
for v in ${variants//,/ }; do
  for s in ${seeds//,/ }; do
    name=$(python -m baselines.names "$v" "$s" "$AVBENCH_CUNET_CONFIG")
    t0=$(date +%s)
    python -m baselines.cunet.train --variant "$v" --seeds "$s" --config "$AVBENCH_CUNET_CONFIG" --version "$version"
    t1=$(date +%s)
    avbench baseline run "$name" --task "synth-ensembles-separation@$version" --out "$subs/$name" --quiet
    avbench score "$subs/$name" --update-leaderboard --replace --leaderboards "$lbdir" --quiet ${AVBENCH_SCORE_WORKERS:+--workers $AVBENCH_SCORE_WORKERS}
    echo "$name: training $((t1 - t0)) s, separation and scoring $(($(date +%s) - t1)) s"
  done
done
avbench leaderboard build --leaderboards "$lbdir" --quiet
python -m baselines.cunet.analysis --task "synth-ensembles-separation@$version" --leaderboards "$lbdir" \
  --out "baselines/cunet/results/results-$version.md" --readme > /dev/null
