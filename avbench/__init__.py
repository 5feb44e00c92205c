"""avbench: benchmark and leaderboard suite for audio-visual music analysis.

The Python API (loaded on first use, so ``import avbench`` stays fast)::

    import avbench
    task = avbench.get_task("synth-ensembles-separation@1-mini")
    result = avbench.evaluate(task, {item.id: {...} for item in task.items})
    print(result.main_value)

* :func:`evaluate` - score estimates held in memory (the numbers ``avbench score`` gives)
* :func:`score` / :func:`validate` - a submission folder, as the CLI does
* :func:`publish` - add a scored submission to its leaderboard (``--update-leaderboard``)
* :func:`get_task`, :func:`list_tasks` - the tasks and their versions
* :func:`load_results` - the results ``avbench score`` wrote
* :class:`SubmissionWriter` - write a submission folder
"""
from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("avbench")
except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
    __version__ = "0.1.0"

__all__ = ["__version__", "evaluate", "score", "validate", "publish", "get_task", "list_tasks", "load_results",
           "SubmissionWriter"]

_LAZY = {"evaluate": ("scoring", "evaluate"), "score": ("scoring", "score"), "publish": ("leaderboard", "publish"),
         "validate": ("submission", "validate"), "get_task": ("tasks", "get_task"),
         "SubmissionWriter": ("submission", "SubmissionWriter")}


def list_tasks() -> list[str]:
    """Every task version this avbench runs, as ``NAME@VERSION`` (data may still need
    generating or preparing: ``avbench data list``)."""
    from .tasks import available

    return sorted(f"{n}@{v}" for n, v in available())


def load_results(path, task: str | None = None):
    """The :class:`~avbench.results.Result` of a scored submission: ``path`` is its
    ``summary.json``, the ``results/<task>@<version>`` folder, or the submission folder
    with ``task`` (``NAME@VERSION``)."""
    from pathlib import Path

    from .results import load_result

    p = Path(path)
    if p.is_dir() and task is not None:
        p = p / "results" / task
    if p.is_dir():
        p = p / "summary.json"
    return load_result(p)


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        mod, attr = _LAZY[name]
        return getattr(importlib.import_module(f"{__name__}.{mod}"), attr)
    raise AttributeError(f"module 'avbench' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_LAZY))
