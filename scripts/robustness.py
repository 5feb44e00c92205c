#!/usr/bin/env python
"""avbench's robustness figures: the command line of the harness in
``tests/robustness/harness.py`` (``python scripts/robustness.py --help`` lists the
experiments; ``all`` prints every figure of docs/validation.md)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "robustness"))

from harness import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
