"""What the head reads: saved double-layer agents evaluated intact and with each half held at its mean.

    python scripts/half_ablation.py results/rl_suite_runs/repeat_previous__warm_L50_seed*.zip
    python scripts/half_ablation.py RUN.zip --episodes 200 --vaa-episodes 0

Each model is evaluated on the env of its run (``<save>_checkpoints/run_config.json``,
written by every ``train_agent`` run; ``--env`` / ``--env-kwargs`` for a model saved
elsewhere) with ``agents.half_ablation.ablate_halves``; prints one markdown row per model:
greedy mean return intact, warm half held, cold half held, the actor's VAA on the intact
episodes, and each half's output spread.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents.cli import HelpFormatter  # noqa: E402
from agents.half_ablation import ablate_halves  # noqa: E402
from agents.ppo import WarmRecurrentPPO  # noqa: E402
from agents.training import RunConfig, evaluation_env  # noqa: E402


def run_config_of(model_path: Path, env: str | None, env_kwargs: dict) -> RunConfig:
    """The RunConfig saved beside ``model_path``, or one built from ``--env`` / ``--env-kwargs``."""
    stored = model_path.with_name(model_path.stem + "_checkpoints") / "run_config.json"
    if env is not None:
        return RunConfig(env=env, env_kwargs=env_kwargs)
    if not stored.is_file():
        raise FileNotFoundError(f"{stored} not found: pass --env (and --env-kwargs) for {model_path}")
    return RunConfig(**json.loads(stored.read_text()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    parser.add_argument("models", nargs="+", type=Path, help="saved WarmRecurrentPPO zips (double-layer actors)")
    parser.add_argument("--episodes", type=int, default=100, help="evaluation episodes per condition")
    parser.add_argument("--vaa-episodes", type=int, default=32, help="episodes the VAA is measured on (0: none)")
    parser.add_argument("--env", default=None, help="evaluation env id (default: the run's own)")
    parser.add_argument("--env-kwargs", type=json.loads, default="{}", help="JSON kwargs of --env")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    print("| model | intact | warm half held | cold half held | VAA (actor) | std warm / cold |")
    print("|---|---|---|---|---|---|")
    for path in args.models:
        config = run_config_of(path, args.env, args.env_kwargs)
        model = WarmRecurrentPPO.load(path, device="cpu")
        result = ablate_halves(model, evaluation_env(config), args.episodes, args.vaa_episodes)
        vaa_text = "-" if result.vaa is None else f"{result.vaa:.3f}"
        print(f"| {path.stem} | {result.intact:.2f} | {result.warm_held:.2f} | {result.cold_held:.2f} | "
              f"{vaa_text} | {result.warm_std:.3f} / {result.cold_std:.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
