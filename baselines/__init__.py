"""Reference baselines.  Each sub-package exposes ``BASELINES: dict[str, callable]``;
a baseline reads data and tasks through avbench and writes a submission like any user."""
import importlib
import pkgutil


def registry() -> dict:
    out = {}
    for m in pkgutil.iter_modules(__path__):
        mod = importlib.import_module(f"{__name__}.{m.name}")
        out.update(getattr(mod, "BASELINES", {}))
    return out
