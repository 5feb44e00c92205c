#!/usr/bin/env bash
# Re-create the committed oracle entries of the synth-ensembles version-1 leaderboards.
#   scripts/oracle_leaderboards.sh [VERSION] [LEADERBOARDS_DIR]
set -euo pipefail
version="${1:-1}"
lbdir="${2:-leaderboards}"
config=full; [[ "$version" == *mini ]] && config=mini
subs="${AVBENCH_HOME:-$HOME/.cache/avbench}/oracle-submissions/$version"
avbench data generate synth-ensembles --config "$config" --quiet
for t in synth-ensembles-separation synth-ensembles-mix2; do
  for b in oracle-ibm oracle-irm oracle-mixture; do
    avbench baseline run "$b" --task "$t@$version" --out "$subs/$t/$b" --quiet
    avbench score "$subs/$t/$b" --update-leaderboard --replace --leaderboards "$lbdir" --quiet
  done
done
for b in oracle-label oracle-prior; do
  avbench baseline run "$b" --task "synth-ensembles-classification@$version" --out "$subs/cls/$b" --quiet
  avbench score "$subs/cls/$b" --update-leaderboard --replace --leaderboards "$lbdir" --quiet
done
avbench leaderboard build --leaderboards "$lbdir" --quiet
