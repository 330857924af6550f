"""Cold vs warmed-up recurrent PPO on the T-maze over seeds and lengths, or on the memory-task suite.

A thin wrapper: the program is :mod:`agents.commands.benchmark` (installed as a console script too).
"""

import sys

from agents.commands.benchmark import main  # noqa: F401

if __name__ == "__main__":
    sys.exit(main())
