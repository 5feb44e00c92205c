"""Reference baselines.  Each sub-package with an ``infer`` module exposes there
``BASELINES: dict[str, callable]``; a baseline reads data and tasks through avbench and
writes a submission like any user.  Package ``__init__`` files import nothing, so that
``python -m baselines.<name>.train`` loads its module once and the networks import with
PyTorch alone."""
import importlib
import importlib.util
import pkgutil


def registry() -> dict:
    out = {}
    for m in pkgutil.iter_modules(__path__):
        if m.ispkg and importlib.util.find_spec(f"{__name__}.{m.name}.infer") is not None:
            out.update(importlib.import_module(f"{__name__}.{m.name}.infer").BASELINES)
    return out
