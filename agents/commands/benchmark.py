"""Cold vs warmed-up recurrent PPO on the T-maze over seeds and lengths, or on the memory-task suite.

Installed as ``warm-rl-benchmark``; also ``python scripts/benchmark_rl.py``.

    python scripts/benchmark_rl.py --lengths 10 30 --seeds 0 1 2 3 4 --timesteps 150000 --workers 2
    python scripts/benchmark_rl.py --lengths 50 --timesteps 1000000 --ray-address auto
    python scripts/benchmark_rl.py --suite                  # every task x warm, cold, stock; 5 seeds, all cores
    python scripts/benchmark_rl.py --suite --tasks tmaze50 copy_first --agents warm stock --seeds 0

With ``--suite`` the budgets are the tasks' own (``agents.suite.SUITE_TASKS``) and the
outputs ``results/rl_suite.{md,csv,png}`` (IQM over seeds with 95% bootstrap intervals).

Each finished run is appended to ``<out>.jsonl`` (a rerun skips finished runs);
the table goes to ``<out>.md`` and the plot of greedy success vs env steps to
``<out>.png`` (default ``--out``: ``results/tmaze_warm_vs_cold/rl_benchmark``).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from dataclasses import replace
from pathlib import Path

from agents.benchmark import VARIANTS, load_results, plan_runs, plot, run_key, run_sweep, summarise
from agents.cli import HelpFormatter, add_run_arguments, run_fields
from agents.suite import ALL_AGENTS, SUITE_AGENTS, SUITE_TASKS, plan_suite, write_suite
from agents.training import RunConfig

DEFAULT_OUT = "results/tmaze_warm_vs_cold/rl_benchmark"
"""Default ``--out``: the table goes to ``<out>.md``, the runs to ``<out>.jsonl``, the plot to ``<out>.png``."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    add_run_arguments(parser)
    parser.add_argument("--lengths", type=int, nargs="+", default=[10], help="T-maze corridor lengths L")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4], help="seeds of every run")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS),
                        help="agent variants (agents.benchmark.VARIANTS)")
    parser.add_argument("--timesteps", type=int, default=150_000, help="steps per run")
    parser.add_argument("--timesteps-per-length", type=json.loads, default="{}",
                        help='JSON {"50": 1000000} overriding --timesteps per length')
    parser.add_argument("--eval-every", type=int, default=10_000, help="env steps between greedy evaluations")
    parser.add_argument("--workers", type=int, default=None,
                        help="parallel runs, one process each (default 1; --suite: every core)")
    parser.add_argument("--ray-address", default=None, help="run on a Ray cluster (pip install warm-rl[ray])")
    parser.add_argument("--out", default=DEFAULT_OUT, help="output path prefix")
    parser.add_argument("--work-dir", default=None,
                        help="checkpoints of the runs (default <out>_runs/); point a longer sweep at a shorter "
                             "one's to continue its runs")
    parser.add_argument("--suite", action="store_true", help="the memory-task suite instead of T-maze lengths")
    parser.add_argument("--tasks", nargs="+", choices=[t.name for t in SUITE_TASKS], default=None,
                        help="suite: restrict the tasks")
    parser.add_argument("--suite-timesteps", type=int, default=None,
                        help="suite: one budget for every task instead of the tasks' own (smoke runs)")
    parser.add_argument("--agents", nargs="+", choices=list(ALL_AGENTS), default=list(SUITE_AGENTS),
                        help="suite: the agents compared (agents.suite.SUITE_AGENTS; the study's remedy "
                             "candidates agents.suite.STUDY_AGENTS on request)")
    parser.add_argument("--report", action="store_true",
                        help="suite: run nothing; write and print the table of the planned runs already finished")
    args = parser.parse_args(argv)
    args.workers_given = args.workers is not None
    args.workers = 1 if args.workers is None else args.workers
    command = "python scripts/benchmark_rl.py " + shlex.join(argv if argv is not None else sys.argv[1:])
    if args.suite:
        return _suite(args, command)

    base = RunConfig(**run_fields(args), eval_every=args.eval_every, timesteps=args.timesteps)
    per_length = {int(k): int(v) for k, v in args.timesteps_per_length.items()}
    runs = plan_runs(base, args.variants, args.lengths, args.seeds, per_length)
    out = Path(args.out)
    work_dir = Path(args.work_dir) if args.work_dir else None
    results = run_sweep(runs, out.with_suffix(".jsonl"), args.workers, args.ray_address, work_dir)
    planned = {run_key(config) for _, config in runs}  # not the records of other settings or older defaults
    results = [r for r in results if run_key(r["config"]) in planned]
    table = summarise(results)
    out.with_suffix(".md").write_text(f"# RL benchmark\n\nCommand: `{command}`\n\n{table}\n")
    plot(results, out.with_suffix(".png"))
    print(table)
    return 0


def _suite(args: argparse.Namespace, command: str) -> int:
    """``--suite``: plan, run (every core unless ``--workers`` is given), write the table and curves."""
    tasks = [t for t in SUITE_TASKS if args.tasks is None or t.name in args.tasks]
    if args.suite_timesteps is not None:
        tasks = [replace(t, timesteps=args.suite_timesteps) for t in tasks]
    base = RunConfig(**run_fields(args), eval_every=args.eval_every)
    runs = plan_suite(base, tasks, args.agents, args.seeds)
    out = Path("results/rl_suite" if args.out == DEFAULT_OUT else args.out)
    workers = args.workers if args.workers_given else (os.cpu_count() or 1)
    work_dir = Path(args.work_dir) if args.work_dir else None
    if args.report:
        results = load_results(out.with_suffix(".jsonl")) if out.with_suffix(".jsonl").exists() else []
    else:
        results = run_sweep(runs, out.with_suffix(".jsonl"), workers, args.ray_address, work_dir)
    planned = {run_key(config) for _, config in runs}  # the plan's settings, not records of older defaults
    print(write_suite([r for r in results if run_key(r["config"]) in planned], tasks, args.agents, out, command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
