"""Train a warmed-up recurrent PPO agent and print its greedy evaluation.

A thin wrapper: the program is :mod:`agents.commands.train` (installed as a console script too).
"""

import sys

from agents.commands.train import main, parse_args  # noqa: F401

if __name__ == "__main__":
    sys.exit(main())
