"""Training throughput, like with like: our double LSTM vs stock RecurrentPPO's LSTM, and the default GRU.

    python scripts/speed_agents.py                      # T-maze L=10, 8 envs, width 64
    python scripts/speed_agents.py --timesteps 20480 --repeats 3

All models use the same env, width, critic layout (a separate critic backbone, SB3's
default) and PPO settings; runs alternate so that background load hits them alike. The
like-with-like ratio is double LSTM / stock LSTM (same cell); the default double GRU is
beside them. Also reports the warm-up wall time and its
share of a 100k-step run at the measured throughput.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import torch
from sb3_contrib import RecurrentPPO
from stable_baselines3.common.env_util import make_vec_env

import envs  # noqa: F401
from agents import WarmRecurrentPPO


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="warm_rl/TMaze-v0")
    parser.add_argument("--env-kwargs", type=json.loads, default='{"length": 10}')
    parser.add_argument("--hidden-size", type=int, default=64)
    parser.add_argument("--n-envs", type=int, default=8)
    parser.add_argument("--timesteps", type=int, default=8192)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--ppo-kwargs", type=json.loads,
                        default='{"n_steps": 128, "batch_size": 128, "n_epochs": 10, "learning_rate": 0.0003}',
                        help="PPO settings given to every model (default: RecurrentPPO's own, written out, "
                             "since WarmRecurrentPPO's defaults differ)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    def make(kind: str):
        env = make_vec_env(args.env, n_envs=args.n_envs, seed=0, env_kwargs=args.env_kwargs)
        if kind == "stock":
            return RecurrentPPO("MlpLstmPolicy", env, seed=0, policy_kwargs={"lstm_hidden_size": args.hidden_size},
                                **args.ppo_kwargs)
        return WarmRecurrentPPO("MlpWarmPolicy", env, seed=0, **args.ppo_kwargs,
                                policy_kwargs={"cell": kind, "double": True, "hidden_size": args.hidden_size,
                                               "pretrain": None})

    rates: dict[str, list[float]] = {"stock": [], "lstm": [], "gru": []}
    for _ in range(args.repeats):
        for kind in rates:
            model = make(kind)
            model.learn(args.n_envs * model.n_steps)  # first rollout: allocation, TorchScript compile
            start = time.perf_counter()
            model.learn(args.timesteps, reset_num_timesteps=False)
            rates[kind].append(args.timesteps / (time.perf_counter() - start))
    stock, lstm, warm = (statistics.median(rates[k]) for k in ("stock", "lstm", "gru"))

    env = make_vec_env(args.env, n_envs=args.n_envs, seed=0, env_kwargs=args.env_kwargs)
    model = WarmRecurrentPPO("MlpWarmPolicy", env, seed=0, **args.ppo_kwargs,
                             policy_kwargs={"cell": "gru", "double": True, "hidden_size": args.hidden_size})
    start = time.perf_counter()
    model.learn(1)  # collects the warm-up rollouts, warms up, then one PPO iteration
    total = time.perf_counter() - start
    warmup_seconds = sum(r.seconds for k, r in model.warmup_result.items() if k in ("actor", "critic"))
    run_seconds = 100_000 / warm

    print(f"env {args.env} {args.env_kwargs}, {args.n_envs} envs, width {args.hidden_size}, "
          f"PPO {args.ppo_kwargs}, threads {torch.get_num_threads()}\n")
    print(f"| model | env steps/s (median of {args.repeats}) |\n|---|---|")
    print(f"| RecurrentPPO MlpLstmPolicy (LSTM {args.hidden_size}) | {stock:.0f} |")
    print(f"| WarmRecurrentPPO double LSTM {args.hidden_size} | {lstm:.0f} |")
    print(f"| WarmRecurrentPPO double GRU {args.hidden_size} (default) | {warm:.0f} |")
    print(f"\nsame cell: double LSTM / stock LSTM {lstm / stock:.2f}x; default GRU / stock LSTM {warm / stock:.2f}x")
    print(f"warm-up (collect {model.warmup_env_steps} steps + actor and critic warm-up): "
          f"{warmup_seconds:.1f} s of optimisation, {total:.1f} s with collection and one PPO iteration; "
          f"{100 * total / run_seconds:.1f}% of a 100k-step run ({run_seconds:.0f} s at {warm:.0f} steps/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
