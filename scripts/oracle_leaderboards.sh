#!/usr/bin/env bash
# Re-create the committed oracle entries of the synth-ensembles leaderboards, exactly.
#   scripts/oracle_leaderboards.sh [VERSION ...] [--leaderboards DIR]
# Default: every committed version (1, 1-mini, 2, 2-mini, 3, 3-mini).  The full versions
# need the full data (generated here: about 3 minutes on 2 cores for each data version).
set -euo pipefail
lbdir=leaderboards
versions=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --leaderboards) lbdir="$2"; shift 2 ;;
    *) versions+=("$1"); shift ;;
  esac
done
[[ ${#versions[@]} -eq 0 ]] && versions=(1 1-mini 2 2-mini 3 3-mini)
for version in "${versions[@]}"; do
  config=full; [[ "$version" == *mini ]] && config=mini
  [[ "$version" == 3* ]] && config="${config}2"  # versions 3, 3-mini: data version 2
  subs="${AVBENCH_HOME:-$HOME/.cache/avbench}/oracle-submissions/$version"
  avbench data generate synth-ensembles --config "$config" --quiet
  for t in synth-ensembles-separation synth-ensembles-mix2; do
    bounds="oracle-ibm oracle-irm oracle-mixture"
    [[ "$version" == 3* ]] && bounds="$bounds mixture-every-slot"  # the thesis' lower-bound row (protocol 2, data version 2)
    for b in $bounds; do
      avbench baseline run "$b" --task "$t@$version" --out "$subs/$t/$b" --quiet
      avbench score "$subs/$t/$b" --update-leaderboard --replace --leaderboards "$lbdir" --quiet
    done
  done
  for b in oracle-label oracle-prior; do
    avbench baseline run "$b" --task "synth-ensembles-classification@$version" --out "$subs/cls/$b" --quiet
    avbench score "$subs/cls/$b" --update-leaderboard --replace --leaderboards "$lbdir" --quiet
  done
done
avbench leaderboard build --leaderboards "$lbdir" --quiet
