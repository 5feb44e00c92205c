#!/usr/bin/env bash
# Plots of the committed leaderboards (shown on their HTML pages), then rebuild the pages.
#   scripts/leaderboard_reports.sh [VERSION] [LEADERBOARDS_DIR]
set -euo pipefail
version="${1:-1}"
lbdir="${2:-leaderboards}"
for t in synth-ensembles-separation synth-ensembles-mix2 synth-ensembles-classification; do
  d="$lbdir/$t/$version"
  [[ -d "$d/entries" ]] || continue
  rm -rf "$d/report"
  avbench report "$t" --task "$t@$version" --leaderboards "$lbdir" --quiet
  for f in "$d"/entries/*.scores.parquet; do
    name="$(basename "$f" .scores.parquet)"
    avbench report "$name" --task "$t@$version" --leaderboards "$lbdir" --out "$d/report/$name" --quiet
  done
  rm -f "$d"/report/*.png "$d"/report/*/*.png   # the pages show the SVGs
done
avbench leaderboard build --leaderboards "$lbdir" --quiet
