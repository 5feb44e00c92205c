"""Submission format, loading and validation.

A submission is a folder::

    submission.yaml
    <task-name>/                       (or the folder named by ``path:``)
        estimates/<item-id>/<instrument>.wav     separation: one mono file per slot
        predictions.csv                          classification: item_id + one column per class

``submission.yaml`` (safe YAML, no tags)::

    name: my-model                      # [a-z0-9._-], unique on a leaderboard
    model: My model (short description)
    authors: [A. Author]
    paper_url: https://...              # optional
    code_url: https://...               # optional
    oracle: false                       # uses the references: shown, never ranked
    extra_training_data: none
    n_parameters: 1234567               # optional
    notes: free text
    tasks:
      - name: synth-ensembles-separation
        version: "1"
        inputs: [mixture, labels]       # what the model used, among the task's inputs
        omitted_slots: error            # or "silence": a missing slot file is silence

Estimates may also be ``.npy`` (a 1-D float32/float64 array; never unpickled).
The optional ``avbench_version:`` pins the avbench release the outputs were made for.

Validation reports every problem at once, each with a stable code (see
:data:`avbench.errors.CODES` and ``docs/validation.md``), the file relative to the
submission, and the fix.  The tree is walked with ``lstat`` only: links, FIFOs and
devices are reported, never followed or opened; sizes are capped before anything is
read; YAML is parsed without tags, anchors or duplicate keys; audio and NPY files are
decoded by bounded readers (:mod:`avbench.safeio`) in limited child processes
(:mod:`avbench.sandbox`).  Validation never reads the task's references.
"""
from ..errors import CODES, AvbenchError, Problem, ProblemList, SubmissionError
from .checks import check_file, validate
from .meta import (CSV_CAP, FILE_CAP, MAX_AUTHORS, MAX_DEPTH, MAX_PARAMETERS, META_CAP, NAME_RE,
                   TEXT_LIMITS, SubmissionInfo, SubmissionMeta, TaskEntry, load_meta, parse_meta, total_cap,
                   write_meta)
from .tree import Submission, Tree, content_sha256, scan, submission_hashes
from .writer import SubmissionWriter

__all__ = ["CODES", "CSV_CAP", "FILE_CAP", "MAX_AUTHORS", "MAX_DEPTH", "MAX_PARAMETERS", "META_CAP", "NAME_RE",
           "TEXT_LIMITS", "AvbenchError", "Problem", "ProblemList", "Submission", "SubmissionError", "SubmissionInfo",
           "SubmissionMeta", "SubmissionWriter", "TaskEntry", "Tree", "check_file", "content_sha256", "load_meta",
           "parse_meta", "scan", "submission_hashes", "total_cap", "validate", "write_meta"]
