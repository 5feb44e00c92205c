#!/usr/bin/env bash
# Fit/train InformedNMF and Exp-/CExp-Wave-U-Net, score them on synth-ensembles-separation
# and add them to the leaderboard.
#   scripts/separation_baselines.sh [VERSION] [LEADERBOARDS_DIR] [WAVE_U_NET_CONFIG]
set -euo pipefail
version="${1:-1}"
lbdir="${2:-leaderboards}"
export AVBENCH_WUN_CONFIG="${3:-cpu}"
config=full; [[ "$version" == *mini ]] && config=mini
probes=()
if [[ "$version" == 3* ]]; then  # data version 2: held-out timbres
  config="${config}2"
  probes=(informed-nmf-heldout-timbres)  # templates from the test timbres: the leak, as an oracle row
fi
subs="${AVBENCH_HOME:-$HOME/.cache/avbench}/separation-submissions/$version"
avbench data generate synth-ensembles --config "$config" --quiet
python -m baselines.wave_unet.train --model exp --config "$AVBENCH_WUN_CONFIG" --version "$version"
python -m baselines.wave_unet.train --model cexp --config "$AVBENCH_WUN_CONFIG" --version "$version"
for b in informed-nmf nmf-all-templates exp-wave-u-net cexp-wave-u-net "${probes[@]}"; do
  avbench baseline run "$b" --task "synth-ensembles-separation@$version" --out "$subs/$b" --quiet
  avbench score "$subs/$b" --update-leaderboard --replace --leaderboards "$lbdir" --quiet
done
avbench leaderboard build --leaderboards "$lbdir" --quiet
