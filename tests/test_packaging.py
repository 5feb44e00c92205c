"""The package layout: what pyproject installs is the whole tree, under namespaced names."""
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tree_packages(folder: str, name: str) -> set:
    base = ROOT / folder
    return {".".join([name, *p.parent.relative_to(base).parts]) for p in base.rglob("__init__.py")}


def test_every_package_of_the_tree_is_installed_and_baselines_are_namespaced():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(cfg["packages"])
    assert listed == _tree_packages("avbench", "avbench") | _tree_packages("baselines", "avbench_baselines")
    assert cfg["package-dir"] == {"avbench_baselines": "baselines"} and "baselines" not in listed
    data = cfg["package-data"]
    assert "tasks/frozen.json" in data["avbench"] and (ROOT / "avbench" / "tasks" / "frozen.json").is_file()
    assert "*/configs/*.yaml" in data["avbench_baselines"]


def test_nothing_in_avbench_imports_the_baselines():
    pat = re.compile(r"^\s*(from|import)\s+(avbench_)?baselines\b", re.M)
    hits = [str(p.relative_to(ROOT)) for p in (ROOT / "avbench").rglob("*.py") if pat.search(p.read_text())]
    assert hits == []


def test_baselines_import_each_other_relatively():
    """So that the folder works under its installed name (avbench_baselines) and in a checkout."""
    pat = re.compile(r"^\s*(from|import)\s+baselines\b", re.M)
    hits = [str(p.relative_to(ROOT)) for p in (ROOT / "baselines").rglob("*.py") if pat.search(p.read_text())]
    assert hits == []


def test_the_cli_finds_the_baselines_through_entry_points():
    from avbench.cli import _baselines

    reg = _baselines()
    assert {"oracle-ibm", "oracle-mixture", "informed-nmf"} <= set(reg)


def test_missing_task_pins_are_an_error(tmp_path, monkeypatch):
    import pytest

    from avbench import tasks
    from avbench.errors import TaskError

    monkeypatch.setattr(tasks, "_FROZEN", tmp_path / "frozen.json")
    with pytest.raises(TaskError, match="cannot be read"):
        tasks.frozen()
    (tmp_path / "frozen.json").write_text("{}")
    with pytest.raises(TaskError, match="empty"):
        tasks.frozen()


#: package -> the avbench modules it must never import (at module level or in a function):
#: the lower layer never reaches up, so no import circle can form between them
LAYERS = {
    "avbench/metrics": ("tasks", "data", "leaderboard", "report", "scoring", "cli", "submission"),
    "avbench/data": ("tasks", "leaderboard", "report", "scoring", "cli"),
    "avbench/leaderboard": ("report", "cli"),
    "avbench/submission": ("scoring", "leaderboard", "report", "cli", "commands"),
    "avbench/scoring": ("leaderboard", "report", "cli", "commands"),
}


def _imports(path: Path) -> set[str]:
    """The avbench modules a file imports (relative imports resolved to package names)."""
    import ast

    parts = path.relative_to(ROOT).with_suffix("").parts
    out = set()
    for n in ast.walk(ast.parse(path.read_text())):
        if isinstance(n, ast.ImportFrom) and n.level:
            base = list(parts[: len(parts) - n.level])
            mod = ".".join(base + ([n.module] if n.module else []))
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in n.names)
        elif isinstance(n, ast.ImportFrom) and (n.module or "").startswith("avbench"):
            out.add(n.module)
        elif isinstance(n, ast.Import):
            out.update(a.name for a in n.names if a.name.startswith("avbench"))
    return out


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_a_lower_layer_never_imports_a_higher_one(layer):
    bad = []
    for f in sorted((ROOT / layer).rglob("*.py")):
        for mod in _imports(f):
            top = mod.split(".")[1] if mod.startswith("avbench.") and mod.count(".") >= 1 else None
            if top in LAYERS[layer]:
                bad.append(f"{f.relative_to(ROOT)} imports {mod}")
    assert not bad, "\n".join(bad)


def _module_graph() -> dict[str, set[str]]:
    """avbench's modules -> the avbench modules each imports (lazy imports included; an
    import of a module's own package is no edge: the package is imported first anyway)."""
    mods = {}
    for f in sorted((ROOT / "avbench").rglob("*.py")):
        parts = f.relative_to(ROOT).with_suffix("").parts
        mods[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = f

    def resolve(m: str) -> str:
        while m and m not in mods:
            m = m.rpartition(".")[0]
        return m

    return {n: {d for d in map(resolve, _imports(f)) if d and not (n + ".").startswith(d + ".")}
            for n, f in mods.items()}


def test_no_import_circle_between_modules():
    graph = _module_graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    circles = []

    def walk(n: str, path: list[str]) -> None:
        state[n] = 1
        for d in sorted(graph.get(n, ())):
            if state.get(d) == 1:
                circles.append(" -> ".join(path[path.index(d):] + [d]))
            elif d not in state:
                walk(d, path + [d])
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            walk(n, [n])
    assert not circles, "\n".join(circles)


def test_no_library_module_is_over_its_size():
    """One job per module: no avbench module over 600 lines, none of the scoring package over 400."""
    big = []
    for f in sorted((ROOT / "avbench").rglob("*.py")):
        n = len(f.read_text().splitlines())
        cap = 400 if f.parent.name == "scoring" else 600
        if n > cap:
            big.append(f"{f.relative_to(ROOT)}: {n} lines (at most {cap})")
    assert not big, "\n".join(big)
