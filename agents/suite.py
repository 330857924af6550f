"""The memory-task suite benchmark: every task x the default agent, the same agent cold, stock RecurrentPPO.

``python scripts/benchmark_rl.py --suite`` plans one run per (task, agent, seed)
(:func:`plan_suite`), runs them through :func:`agents.benchmark.run_sweep`
(resumable, parallel), and writes the table of final greedy returns - the
interquartile mean over seeds with a 95% bootstrap interval (:mod:`agents.stats`) -
with the warm-cold and warm-stock differences, as markdown and CSV, and the
learning curves with their spread (:func:`write_suite`).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from agents.stats import iqm, iqm_difference_interval, iqm_interval
from agents.training import RunConfig


@dataclass(frozen=True)
class SuiteTask:
    """One task of the suite.

    Attributes:
        name: short label (table rows, run names).
        env: gymnasium id.
        memory: the kind of memory it tests.
        timesteps: training budget of every run.
        env_kwargs: the task's difficulty.
        held_out: not looked at while choosing the defaults (reported apart).
    """

    name: str
    env: str
    memory: str
    timesteps: int
    env_kwargs: dict = field(default_factory=dict)
    held_out: bool = False


SUITE_TASKS: tuple[SuiteTask, ...] = (
    SuiteTask("tmaze50", "warm_rl/TMaze-v0", "one fact, held long", 1_000_000, {"length": 50}),
    SuiteTask("copy_first", "warm_rl/CopyFirst-v0", "one fact through noise", 150_000, {"delay": 50}),
    SuiteTask("delayed_match", "warm_rl/DelayedMatch-v0", "a cue matched after a random delay", 150_000),
    SuiteTask("cue_recall", "warm_rl/CueRecall-v0", "several facts, recalled in order", 150_000),
    SuiteTask("copy_first_continuous", "warm_rl/CopyFirstContinuous-v0", "one value, continuous action", 150_000),
    SuiteTask("repeat_previous", "warm_rl/RepeatPrevious-v0", "short and precise: the symbol 4 steps back", 150_000,
              {"k": 4, "length": 50}),
    SuiteTask("count_events", "warm_rl/CountEvents-v0", "accumulation: count events, report at the end", 150_000,
              {"length": 15, "p": 0.14, "max_count": 3}),
    SuiteTask("key_value", "warm_rl/KeyValueRecall-v0", "bindings: the value of a queried key", 150_000,
              held_out=True),
    SuiteTask("pendulum", "warm_rl/HiddenVelocityPendulum-v0", "control with hidden velocity, noisy", 300_000,
              {"noise_std": 0.02}, held_out=True),
)
"""The tasks of ``--suite``, with their budgets."""

SUITE_AGENTS: dict[str, dict] = {
    "warm": {},
    "warm_lstm": {"cell": "lstm"},
    "cold": {"pretrain": None},
    "stock": {"algorithm": "RecurrentPPO"},
    "stock_64": {"algorithm": "RecurrentPPO", "policy_kwargs": {"lstm_hidden_size": 64}},
}
"""The agents compared, as RunConfig overrides: the default agent (warmed-up double GRU 64),
the same agent with a double LSTM backbone, the same agent without pre-training, stock
``RecurrentPPO("MlpLstmPolicy")`` with its own defaults (LSTM 256: what a switching user has)
and at our width (LSTM 64)."""

OLD_PPO: dict = {"n_epochs": 4, "batch_size": 256}
"""The PPO epochs and minibatch of the defaults before this study (16 gradient steps per rollout)."""

STUDY_TARGET_KL: float = 0.02
"""PPO's ``target_kl`` of the study agents ``*_kl``: a rollout's epochs stop once the policy's
approximate KL from the rollout's policy exceeds 1.5 x this (RecurrentPPO: no limit)."""

STUDY_VAA_REG: dict = {"weight": 1.0, "every": 1, "eps": 0.01}
"""The VAA* regulariser of the study agents ``*_reg`` (``warm_rl.VAARegularizer``): one step
after every PPO update phase, VAA* at the agent's warm-up ``eps``, towards warm-up's 0.95."""

KL_LIMITED: dict = {"ppo_kwargs": {"target_kl": STUDY_TARGET_KL}}
KL_LIMITED_REGULARISED: dict = {**KL_LIMITED, "vaa_reg": STUDY_VAA_REG}
"""The overrides the ``*_kl`` / ``*_kl_reg`` study agents share; each adds only its own."""

STUDY_AGENTS: dict[str, dict] = {
    "warm_old_ppo": {"ppo_kwargs": OLD_PPO},
    "cold_old_ppo": {"pretrain": None, "ppo_kwargs": OLD_PPO},
    "cold_e10": {"pretrain": None, "ppo_kwargs": {"n_epochs": 10, "batch_size": 256}},
    "cold_b128": {"pretrain": None, "ppo_kwargs": {"n_epochs": 4, "batch_size": 128}},
    "cold_const_lr": {"pretrain": None, "lr_schedule": "constant", "ppo_kwargs": OLD_PPO},
    "cold_norm_adv": {"pretrain": None, "ppo_kwargs": {**OLD_PPO, "normalize_advantage": True}},
    "cold_32": {"pretrain": None, "hidden_size": 32},
    "warm_128": {"hidden_size": 128},
    "warm_actor": {"policy_kwargs": {"warmup_critic": False}},
    "warm_lsc": {"pretrain": "warmup+lsc"},
    "warm_no_lsc": {"pretrain": "warmup"},
    "warm_no_kl": {"ppo_kwargs": {"target_kl": None}},
    "warm_eps": {"warmup_kwargs": {"eps": 0.1}},
    "warm_kl": KL_LIMITED,
    "cold_kl": {**KL_LIMITED, "pretrain": None},
    "warm_lstm_kl": {**KL_LIMITED, "cell": "lstm"},
    "warm_kl_reg": KL_LIMITED_REGULARISED,
    "warm_lstm_kl_reg": {**KL_LIMITED_REGULARISED, "cell": "lstm"},
}
"""Agents of the "warm-up never hurts" study (``results/rl_suite_study.md``), not in the default
table. Why the defaults lost to stock RecurrentPPO: the default and cold agents with the old
PPO settings (4 epochs x minibatch 256), then 10 epochs x 256 and 4 epochs x 128 (half of
RecurrentPPO's 10 x 128 each), a constant learning rate and advantage normalisation with the
old settings. Why warm-up still trails the cold agent: the cold half of the default agent
alone (GRU 32, no pre-training), the default agent twice as wide (its cold half as wide as
the cold agent), the critic left cold (warm-up of the actor only), the cold halves made
locally stable after warm-up, and VAA*'s ``eps`` 0.1. Whether a KL limit on each rollout's
updates keeps the double LSTM's T-maze policy from collapsing without costing the
update-bound tasks: the default, cold and LSTM agents with :data:`STUDY_TARGET_KL`, and the
warmed-up ones also with the VAA* regulariser :data:`STUDY_VAA_REG`. Each is a set of
overrides on the defaults of the version it ran under (its records' ``agent_defaults``):
since version 3 the default pre-training is warm-up + LSC, so ``warm_lsc`` is the default
agent, ``warm_no_lsc`` (warm-up alone) is what ``warm`` was, and ``warm_no_kl`` is the
default agent without PPO's ``target_kl``."""

ALL_AGENTS: dict[str, dict] = {**SUITE_AGENTS, **STUDY_AGENTS}
"""Every agent ``--agents`` accepts."""

AGENT_LABELS = {
    "warm": "warm (default)", "warm_lstm": "warm LSTM", "cold": "cold", "stock": "stock 256", "stock_64": "stock 64",
    "cold_32": "cold 32", "warm_128": "warm 128", "warm_actor": "warm actor only", "warm_lsc": "warm + LSC",
    "warm_no_lsc": "warm-up alone",
    "warm_no_kl": "warm, no target KL",
    "warm_eps": "warm eps 0.1", "warm_old_ppo": "warm, 4 x 256", "cold_old_ppo": "cold, 4 x 256",
    "cold_e10": "cold, 10 x 256", "cold_b128": "cold, 4 x 128", "cold_const_lr": "cold, 4 x 256, constant lr",
    "cold_norm_adv": "cold, 4 x 256, normalised adv.", "warm_kl": "warm, target KL", "cold_kl": "cold, target KL",
    "warm_lstm_kl": "warm LSTM, target KL", "warm_kl_reg": "warm, target KL + VAA reg.",
    "warm_lstm_kl_reg": "warm LSTM, target KL + VAA reg.",
}


MERGED_FIELDS = ("ppo_kwargs", "policy_kwargs", "warmup_kwargs", "lsc_kwargs")
"""RunConfig dicts an agent's overrides update rather than replace (``--ppo-kwargs`` and an
agent's own PPO settings both hold)."""


def run_variant(task: str, agent: str) -> str:
    """The sweep variant of a (task, agent) pair (it names the runs' checkpoints)."""
    return f"{task}__{agent}"


def plan_suite(
    base: RunConfig, tasks: Iterable[SuiteTask], agents: Iterable[str], seeds: Iterable[int]
) -> list[tuple[str, dict]]:
    """The ``(variant, RunConfig dict)`` runs of a suite sweep, seed-major (early seeds first).

    An agent's dict overrides (:data:`MERGED_FIELDS`) update ``base``'s; its other fields replace them.

    Args:
        base: settings shared by every run (n_envs, eval_every, ...).
        tasks: the tasks.
        agents: names of :data:`ALL_AGENTS`.
        seeds: the seeds.

    Raises:
        ValueError: an unknown agent name.
    """
    agents, tasks = list(agents), list(tasks)
    for agent in agents:
        if agent not in ALL_AGENTS:
            raise ValueError(f"unknown suite agent {agent!r}; expected one of {sorted(ALL_AGENTS)}")
    runs = []
    for seed in seeds:
        for task in tasks:
            for agent in agents:
                overrides = {name: ({**getattr(base, name), **value} if name in MERGED_FIELDS else value)
                             for name, value in ALL_AGENTS[agent].items()}
                config = replace(base, env=task.env, env_kwargs=dict(task.env_kwargs), timesteps=task.timesteps,
                                 seed=seed, **overrides)
                runs.append((run_variant(task.name, agent), asdict(config)))
    return runs


def _final_returns(results: Sequence[dict]) -> dict[tuple[str, str], list[float]]:
    """``(task, agent) -> final greedy mean return of each seed``."""
    groups: dict[tuple[str, str], list[float]] = {}
    for record in results:
        task, _, agent = record["variant"].partition("__")
        groups.setdefault((task, agent), []).append(float(record["mean_return"]))
    return groups


def _interval_text(values: list[float]) -> str:
    if not values:
        return "-"
    low, high = iqm_interval(values)
    return f"{iqm(values):.2f} [{low:.2f}, {high:.2f}]"


def _difference_text(first: list[float], second: list[float]) -> str:
    if not first or not second:
        return "-"
    difference, low, high = iqm_difference_interval(first, second)
    if min(len(first), len(second)) < 2:  # one seed: the bootstrap interval is a point, no verdict
        return f"{difference:+.2f} (one seed)"
    verdict = "better" if low > 0 else ("worse" if high < 0 else "tie")
    return f"{difference:+.2f} [{low:+.2f}, {high:+.2f}] {verdict}"


def suite_rows(results: Sequence[dict], tasks: Sequence[SuiteTask], agents: Sequence[str]) -> list[dict]:
    """One row per task with runs: IQM [95% CI] per agent, and warm - cold, warm - stock differences."""
    groups = _final_returns(results)
    rows = []
    for task in tasks:
        if not any(groups.get((task.name, agent)) for agent in agents):
            continue
        row = {"task": task.name, "memory": task.memory, "held_out": task.held_out, "steps": task.timesteps}
        for agent in agents:
            values = groups.get((task.name, agent), [])
            row[agent] = _interval_text(values)
            row[f"{agent}_seeds"] = len(values)
        warm = groups.get((task.name, "warm"), [])
        for other in ("cold", "stock", "stock_64"):
            if other in agents:
                row[f"warm - {other}"] = _difference_text(warm, groups.get((task.name, other), []))
        rows.append(row)
    return rows


def suite_markdown(rows: list[dict], agents: Sequence[str], command: str) -> str:
    """The suite table as markdown, tuned-on and held-out tasks apart."""
    differences = [f"warm - {other}" for other in ("cold", "stock", "stock_64") if other in agents]
    header = ["task", "memory", "steps", *(AGENT_LABELS[a] for a in agents), *differences]
    lines = [
        "# The memory-task suite",
        "",
        f"Command: `{command}`",
        "",
        "Final greedy mean return (evaluation episodes at the end of training): interquartile mean over seeds",
        "[95% percentile-bootstrap interval]; differences of IQMs with their interval (`better` / `worse`:",
        "the interval excludes 0). `stock`: `RecurrentPPO(\"MlpLstmPolicy\")` with its own defaults.",
    ]
    for held_out, title in ((False, "Tasks the defaults were chosen on"), (True, "Held-out tasks")):
        part = [r for r in rows if r["held_out"] == held_out]
        if not part:
            continue
        lines += ["", f"## {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for row in part:
            cells = [row["task"], row["memory"], str(row["steps"])]
            cells += [f"{row[a]} (n={row[f'{a}_seeds']})" for a in agents] + [row[d] for d in differences]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_suite(results: Sequence[dict], tasks: Sequence[SuiteTask], agents: Sequence[str], out: Path,
                command: str) -> str:
    """Writes ``<out>.md``, ``<out>.csv`` and ``<out>.png``; returns the markdown."""
    out = Path(out)
    rows = suite_rows(results, tasks, agents)
    text = suite_markdown(rows, agents, command)
    out.with_suffix(".md").write_text(text)
    if rows:
        with out.with_suffix(".csv").open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        plot_suite_curves(results, [t for t in tasks if any(r["task"] == t.name for r in rows)], agents,
                          out.with_suffix(".png"))
    return text


def plot_suite_curves(results: Sequence[dict], tasks: Sequence[SuiteTask], agents: Sequence[str], path: Path) -> None:
    """Greedy evaluation return against env steps per task: median over seeds, min-max band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = min(4, len(tasks))
    rows = -(-len(tasks) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4 * columns, 3.2 * rows), squeeze=False)
    for ax, task in zip(axes.flat, tasks, strict=False):
        for agent in agents:
            curves = [r["history"] for r in results if r["variant"] == run_variant(task.name, agent) and r["history"]]
            if not curves:
                continue
            width = min(len(c) for c in curves)
            steps = [point[0] for point in curves[0][:width]]
            returns = np.array([[point[2] for point in c[:width]] for c in curves])
            ax.plot(steps, np.median(returns, axis=0), label=AGENT_LABELS[agent])
            ax.fill_between(steps, returns.min(axis=0), returns.max(axis=0), alpha=0.2)
        ax.set_title(task.name + (" (held out)" if task.held_out else ""), fontsize=9)
        ax.set_xlabel("env steps")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(tasks):]:
        ax.axis("off")
    axes[0, 0].set_ylabel("greedy return")
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
