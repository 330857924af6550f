"""Print the throughput (environment steps per second) of every memory task.

Three measurements per env id, under random actions, resets included: the raw env class, the
env from ``gymnasium.make`` (default wrappers) and a ``SyncVectorEnv`` of such envs, counted in
environment steps (vector steps times the number of sub-envs).

Usage::

    python scripts/speed_envs.py                 # every env, 100k steps each
    python scripts/speed_envs.py --steps 1000 --ids warm_rl/TMaze-v0
"""

from __future__ import annotations

import argparse
import os
import platform

import envs
from envs.benchmark import benchmark_table


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments, run the benchmark and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100_000, help="timed steps per measurement")
    parser.add_argument("--num-envs", type=int, default=8, help="sub-envs of the vector env")
    parser.add_argument("--ids", nargs="+", default=list(envs.TASK_IDS), help="env ids")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(
        f"steps/s (thousands), {args.steps} steps per measurement, Python "
        f"{platform.python_version()}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs\n"
    )
    print(benchmark_table(args.ids, n_steps=args.steps, num_envs=args.num_envs, seed=args.seed))


if __name__ == "__main__":
    main()
