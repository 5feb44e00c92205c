#!/usr/bin/env bash
# Fit/train InformedNMF and Exp-/CExp-Wave-U-Net (each Wave-U-Net with every seed: entries
# MODEL, MODEL.s1, MODEL.s2), score them on synth-ensembles-separation and add them to the
# leaderboard, then rewrite the Wave-U-Net claim table.  Prints the wall time of every
# training and scoring.
#   scripts/separation_baselines.sh [VERSION] [LEADERBOARDS_DIR] [WAVE_U_NET_CONFIG] [SEEDS]
# A CONFIG other than cpu (the committed reference rows) writes entries of its own,
# NAME.CONFIG, NAME.CONFIG.s1, ... (python -m baselines.names), beside the reference rows.
#   SEEDS: comma-separated Wave-U-Net seeds (default 0,1,2)
set -euo pipefail
version="${1:-1}"
lbdir="${2:-leaderboards}"
export AVBENCH_WUN_CONFIG="${3:-cpu}"
seeds="${4:-0,1,2}"
config=full; [[ "$version" == *mini ]] && config=mini
probes=()
if [[ "$version" == 3* ]]; then  # data version 2: held-out timbres
  config="${config}2"
  probes=(informed-nmf-heldout-timbres)  # templates from the test timbres: the leak, as an oracle row
fi
subs="${AVBENCH_HOME:-$HOME/.cache/avbench}/separation-submissions/$version"
score() {
  t0=$(date +%s)
  avbench baseline run "$1" --task "synth-ensembles-separation@$version" --out "$subs/$1" --quiet
  avbench score "$subs/$1" --update-leaderboard --replace --leaderboards "$lbdir" --quiet
  echo "$1: separation and scoring $(($(date +%s) - t0)) s"
}
avbench data generate synth-ensembles --config "$config" --quiet
for b in informed-nmf nmf-all-templates "${probes[@]}"; do score "$b"; done
for m in exp cexp; do
  for s in ${seeds//,/ }; do
    name=$(python -m baselines.names "$m-wave-u-net" "$s" "$AVBENCH_WUN_CONFIG")
    t0=$(date +%s)
    python -m baselines.wave_unet.train --model "$m" --config "$AVBENCH_WUN_CONFIG" --version "$version" --seed "$s"
    echo "$name: training $(($(date +%s) - t0)) s"
    score "$name"
  done
done
avbench leaderboard build --leaderboards "$lbdir" --quiet
if [[ "$version" == 3 ]]; then
  python -m baselines.wave_unet.analysis --task "synth-ensembles-separation@$version" --leaderboards "$lbdir" --readme > /dev/null
fi
