#!/usr/bin/env bash
# Build the wheel, check what it carries, install it into a fresh virtual environment
# outside the checkout and run the demo and a scoring check from the installed package.
#   scripts/wheel_check.sh            (CI runs it; about 3 minutes after the first install)
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# built from the project's files alone (no egg-info or build/ left by an editable install)
mkdir "$work/src"
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$work/src"
python -m pip wheel -q --no-deps "$work/src" -w "$work/dist" > "$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
whl=$(ls "$work"/dist/avbench-*.whl)
python - "$whl" <<'PY'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
top = sorted({n.split("/")[0] for n in names})
need = ["avbench/tasks/frozen.json", "avbench/py.typed", "avbench_baselines/py.typed",
        "avbench_baselines/cunet/configs/cpu.yaml", "avbench_baselines/sop/configs/cpu.yaml",
        "avbench_baselines/multimodal/configs/cpu.yaml", "avbench_baselines/wave_unet/configs/cpu.yaml",
        "avbench/data/cards/synth-ensembles.md", "avbench/data/synth/timbres.json", "avbench/tasks/specs/synth-ensembles-separation.yaml",
        "avbench/tasks/specs/_params.yaml", "avbench/leaderboard/templates/leaderboard.css",
        "avbench/leaderboard/templates/leaderboard.js"]
missing = [n for n in need if n not in names]
assert not missing, f"the wheel lacks {missing}"
assert any(n.startswith("avbench/data/manifests/urmp/") for n in names), "the wheel lacks the manifests"
assert "baselines" not in top, f"the wheel installs a top-level 'baselines' package: {top}"
ep = next(n for n in names if n.endswith("entry_points.txt"))
assert "[avbench.baselines]" in zipfile.ZipFile(sys.argv[1]).read(ep).decode(), "no avbench.baselines entry point"
print(f"wheel: {len(names)} files, top-level {top}: ok")
PY
# The fresh environment takes its dependencies from the running one (a .pth line after its own
# site-packages): a second copy of torch is several GB. avbench itself comes only from the wheel,
# and every requirement the wheel declares is checked against what that environment provides.
python3 -m venv "$work/venv"
pipq() { "$work/venv/bin/python" -m pip install -q "$@" > "$work/pip.log" 2>&1 || { cat "$work/pip.log"; exit 1; }; }
pipq --no-deps "$whl"
deps=$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
own=$("$work/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$deps" > "$own/zz_wheel_check_deps.pth"
"$work/venv/bin/python" - "$own" <<'PY'
import sys
from importlib import metadata
from packaging.requirements import Requirement
own = sys.argv[1]
dist = next(d for d in metadata.distributions(path=[own]) if d.metadata["Name"] == "avbench")
bad = []
for line in dist.requires or []:
    req = Requirement(line)
    if req.marker is not None and not req.marker.evaluate({"extra": ""}):
        continue  # an optional extra
    try:
        have = metadata.version(req.name)
    except metadata.PackageNotFoundError:
        bad.append(f"{req} (not installed)")
        continue
    if have not in req.specifier:
        bad.append(f"{req} (have {have})")
assert not bad, f"the wheel's requirements are not met: {bad}"
print(f"wheel requirements: {len(dist.requires or [])} declared, all met")
PY
cd "$work"  # nothing of the checkout on sys.path
export AVBENCH_HOME="$work/home"
"$work/venv/bin/avbench" demo --quiet > "$work/demo.txt"
grep -q "oracle-ibm" "$work/demo.txt"
"$work/venv/bin/python" - <<'PY'
import sys, avbench, avbench.tasks as t
from pathlib import Path
assert avbench.__file__.startswith(sys.prefix), avbench.__file__  # the wheel, not the checkout
pins = t.frozen()
assert "synth-ensembles-separation@1-mini" in pins, "task pins missing in the installed package"
from avbench.scoring import score
from avbench.tasks import get_task
from avbench.testing import checklist as ck
task = get_task("synth-ensembles-classification@3-mini")  # the demo's data (data version 2)
sub = ck.base(Path("wheel-sub"), task)
r = score(sub, workers=1, progress=False)[0]
assert r.scores["hit@1"].n == task.spec.n_items
print(f"installed wheel: {len(pins)} task pins, demo and scoring ok (uniform scores: Hit@1 {r.main_value:.3f})")
PY
