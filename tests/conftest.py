import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


@pytest.fixture(scope="session")
def avbench_home(tmp_path_factory):
    """An isolated AVBENCH_HOME for the whole session."""
    home = tmp_path_factory.mktemp("avbench_home")
    old = os.environ.get("AVBENCH_HOME")
    os.environ["AVBENCH_HOME"] = str(home)
    yield home
    if old is None:
        os.environ.pop("AVBENCH_HOME", None)
    else:
        os.environ["AVBENCH_HOME"] = old


@pytest.fixture(scope="session")
def mini(avbench_home):
    """The generated mini configuration of synth-ensembles."""
    from avbench.data import synth as se

    return se.generate("mini", progress=False)


@pytest.fixture(scope="session")
def mini2(avbench_home):
    """The generated mini configuration of synth-ensembles data version 2 (task versions 3-mini)."""
    from avbench.data import synth as se
    from avbench.data.synth import soundfonts

    if soundfonts.missing_fonts():
        pytest.skip("the version-2 soundfonts are not installed (scripts/install.sh)")
    return se.generate("mini2", progress=False)


@pytest.fixture(scope="session")
def oracle_subs(mini, tmp_path_factory):
    """Oracle submissions on the mini tasks (read-only: copy before mutating)."""
    import baselines

    reg = baselines.registry()
    root = tmp_path_factory.mktemp("subs")
    out = {}
    for task, name in [("synth-ensembles-separation@1-mini", "oracle-ibm"),
                       ("synth-ensembles-separation@1-mini", "oracle-mixture"),
                       ("synth-ensembles-mix2@1-mini", "oracle-irm"),
                       ("synth-ensembles-classification@1-mini", "oracle-label"),
                       ("synth-ensembles-classification@1-mini", "oracle-prior")]:
        p = root / f"{task.split('@')[0]}-{name}"
        reg[name](task, p, progress=False)
        out[(task.split("@")[0], name)] = p
    return out


@pytest.fixture
def copy_sub(tmp_path):
    def _copy(src: Path) -> Path:
        dst = tmp_path / src.name
        shutil.copytree(src, dst, symlinks=True)
        return dst

    return _copy
