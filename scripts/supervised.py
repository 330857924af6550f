"""Supervised benchmarks of warm-up: one run, or a whole table of the paper.

A thin wrapper: the program is :mod:`warm_rl.suite.command` (installed as a console script too).
"""

import sys

from warm_rl.suite.command import main, parse_args  # noqa: F401

if __name__ == "__main__":
    sys.exit(main())
