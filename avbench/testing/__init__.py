"""Test support shipped with avbench, for its own tests and for anyone checking a loader,
a validator or a submission pipeline without the real data.

* :mod:`avbench.testing.checklist` -- every problem validation refuses or flags, each with
  a fixture that turns a valid mini submission into one showing exactly that code;
* :mod:`avbench.testing.fixtures` -- small stand-ins for the real datasets in their exact
  native layouts.

Fault injection into avbench's own writes (ENOSPC, EIO, a kill at step *k*) goes through
the public hook :func:`avbench.files.write_hook`.
"""
