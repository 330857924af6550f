"""Cold vs warmed-up agents over seeds and corridor lengths: the RL benchmark.

Runs are independent processes (a local process pool, or Ray tasks when a
Ray address is given); each finished run is appended to a JSONL file at once,
so a killed sweep loses nothing and a rerun skips what is done.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from agents.training import RunConfig, train_agent

SOLVED = 0.95
"""Greedy success rate from which a run counts as solved."""

VARIANTS: dict[str, dict] = {
    "cold": {"warmup": False, "double": False},
    "cold_lstm": {"warmup": False, "double": False, "cell": "lstm"},
    "warm": {"warmup": True, "double": True},
    "warm_full": {"warmup": True, "double": False},
    "warm_par": {"warmup": True, "double": True, "prev_action_reward": True},
}
"""Named settings compared by the benchmark (merged into the base RunConfig)."""


def run_key(config: dict) -> str:
    """A stable identifier of a run's settings."""
    return json.dumps(config, sort_keys=True)


def _run(config_dict: dict, variant: str) -> dict:
    import torch

    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    result = train_agent(RunConfig(**config_dict))
    return {
        "variant": variant,
        "config": config_dict,
        "success_rate": result.evaluation.success_rate,
        "mean_return": result.evaluation.mean_return,
        "vaa_before": result.vaa_before,
        "vaa_after": result.vaa_after,
        "warmup_seconds": result.warmup_seconds,
        "seconds": result.seconds,
        "history": result.history,
    }


def plan_runs(
    base: RunConfig, variants: Iterable[str], lengths: Iterable[int], seeds: Iterable[int], timesteps: dict[int, int]
) -> list[tuple[str, dict]]:
    """All (variant, config) pairs of a sweep."""
    runs = []
    for length in lengths:
        for variant in variants:
            if variant not in VARIANTS:
                raise ValueError(f"unknown variant {variant!r}; expected one of {sorted(VARIANTS)}")
            for seed in seeds:
                config = replace(
                    base,
                    env_kwargs={**base.env_kwargs, "length": length},
                    seed=seed,
                    timesteps=timesteps.get(length, base.timesteps),
                    **VARIANTS[variant],
                )
                runs.append((variant, asdict(config)))
    return runs


def load_results(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def run_sweep(
    runs: list[tuple[str, dict]], out: Path, workers: int = 1, ray_address: str | None = None
) -> list[dict]:
    """Runs what ``out`` (JSONL) does not hold yet; returns all results."""
    done = {run_key(r["config"]) for r in load_results(out)}
    todo = [(variant, config) for variant, config in runs if run_key(config) not in done]
    out.parent.mkdir(parents=True, exist_ok=True)

    def record(result: dict) -> None:
        with out.open("a") as handle:
            handle.write(json.dumps(result) + "\n")
        print(
            f"{result['variant']:>5} L={result['config']['env_kwargs'].get('length')} "
            f"seed={result['config']['seed']} success={result['success_rate']} "
            f"({result['seconds']:.0f} s)",
            flush=True,
        )

    if ray_address is not None:
        import ray

        ray.init(address=ray_address, include_dashboard=False, ignore_reinit_error=True)
        remote = ray.remote(num_cpus=1)(_run)
        pending = [remote.remote(config, variant) for variant, config in todo]
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            record(ray.get(ready[0]))
    elif workers <= 1:
        for variant, config in todo:
            record(_run(config, variant))
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(_run, config, variant) for variant, config in todo]
            for future in as_completed(futures):
                record(future.result())
    return load_results(out)


def summarise(results: list[dict]) -> str:
    """Markdown table: per length and variant, solved runs, success, VAA."""
    groups: dict[tuple[int, str], list[dict]] = defaultdict(list)
    for result in results:
        groups[(result["config"]["env_kwargs"].get("length"), result["variant"])].append(result)
    lines = [
        "| L | variant | solved (success >= 0.95) | mean greedy success | steps | VAA before -> after warm-up |",
        "|---|---|---|---|---|---|",
    ]
    for (length, variant), group in sorted(groups.items()):
        rates = [r["success_rate"] or 0.0 for r in group]
        solved = sum(rate >= SOLVED for rate in rates)
        vaa = [(r["vaa_before"], r["vaa_after"]) for r in group if r["vaa_after"] is not None]
        vaa_text = (
            f"{np.mean([b for b, _ in vaa]):.3f} -> {np.mean([a for _, a in vaa]):.3f}" if vaa else "-"
        )
        steps = group[0]["config"]["timesteps"]
        lines.append(
            f"| {length} | {variant} | {solved}/{len(group)} | {np.mean(rates):.2f} | {steps} | {vaa_text} |"
        )
    return "\n".join(lines)


def plot(results: list[dict], path: Path) -> None:
    """Greedy success vs env steps, mean over seeds, one line per (variant, L)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups: dict[tuple[int, str], list[dict]] = defaultdict(list)
    for result in results:
        if result["history"]:
            groups[(result["config"]["env_kwargs"].get("length"), result["variant"])].append(result)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for (length, variant), group in sorted(groups.items()):
        steps = [t for t, _, _ in group[0]["history"]]
        curves = [[s or 0.0 for _, s, _ in r["history"]][: len(steps)] for r in group]
        width = min(len(c) for c in curves)
        mean = np.mean([c[:width] for c in curves], axis=0)
        ax.plot(steps[:width], mean, label=f"{variant} L={length} ({len(group)} seeds)",
                linestyle="-" if variant == "warm" else "--")
    ax.set_xlabel("env steps")
    ax.set_ylabel("greedy success rate")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
