"""Cold vs warmed-up agents over seeds and corridor lengths: the RL benchmark.

Runs are independent processes (a local process pool, or Ray tasks when a
Ray address is given) of :func:`warm_rl.suite.sweep.run_sweep`; each finished
run is appended to a JSONL file at once, so a killed sweep loses nothing and a
rerun skips what is done.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from agents.training import (
    RENAMED_FIELDS,
    SCHEDULE_FIELDS,
    WARM_RL_ONLY_FIELDS,
    RunConfig,
    train_agent,
    upgrade_config,
    uses_agent_defaults,
)
from warm_rl.suite import sweep

SOLVED = 0.95
"""Greedy success rate from which a run counts as solved."""

VARIANTS: dict[str, dict] = {
    "cold": {"pretrain": None, "double": False},
    "cold_lstm": {"pretrain": None, "double": False, "cell": "lstm"},
    "warm": {"pretrain": "warmup", "double": True},
    "warm_full": {"pretrain": "warmup", "double": False},
    "warm_par": {"pretrain": "warmup", "double": True, "prev_action_reward": True},
    "lsc": {"pretrain": "lsc", "double": True},
    "lsc_full": {"pretrain": "lsc", "double": False},
    "warm_lsc": {"pretrain": "warmup+lsc", "double": True},
}
"""Named settings compared by the benchmark (merged into the base RunConfig)."""


BOOKKEEPING_FIELDS = ("checkpoint_every", "keep_checkpoints", "stats_every")
"""RunConfig fields that do not change a run's outcome (left out of its key)."""


OMITTED_WHEN_DEFAULT = {"policy_kwargs": {}, "lr_schedule": "constant", "ent_schedule": "constant", "lsc_kwargs": {},
                        "algorithm": "WarmRecurrentPPO", "vaa_reg": None, "agent_defaults": 1}
"""RunConfig fields added after runs were recorded, left out of the key at the value
those runs had, so that the earlier runs keep their keys (and checkpoints)."""


RENAMED_CONFIG_FIELDS: dict[str, str] = RENAMED_FIELDS
"""Old RunConfig field names (in records written before the rename) -> their new names."""

LEGACY_CONFIG_FIELDS: dict[str, str] = {new: old for old, new in RENAMED_CONFIG_FIELDS.items()}
"""New RunConfig field names -> the names they had when the earlier runs were keyed."""


def _legacy_item(key: str, value: object) -> tuple[str, object]:
    """A config item as the runs recorded before the renames keyed it."""
    if key == "pretrain" and value in ("warmup", None):
        return "warmup", value == "warmup"
    if key == "pretrain":
        return key, value  # LSC runs are newer than the rename: their key has pretrain
    return LEGACY_CONFIG_FIELDS.get(key, key), value


def upgrade_record(record: dict) -> dict:
    """A JSONL record with its config upgraded (:func:`upgrade_config`); other fields as they are."""
    if not isinstance(record.get("config"), dict):
        return record
    return {**record, "config": upgrade_config(record["config"])}


def run_key(config: dict) -> str:
    """A stable identifier of a run's settings.

    The renamed fields are keyed under their legacy names (``n_layers``,
    ``vaa_steps``, ``warmup`` for ``pretrain`` "warmup" / None), so that a config
    with the old names and its upgrade (or a new RunConfig of the same settings)
    have the same key, the key of the runs recorded before the rename. Runs of
    other agent defaults (``agent_defaults``) have other keys; stock RecurrentPPO
    runs, which use neither them nor any other field of
    :data:`agents.training.WARM_RL_ONLY_FIELDS`, are keyed without those, so that one
    stock run keeps its key whatever warm-rl's defaults are.
    """
    config = upgrade_config(config)
    if not uses_agent_defaults(config.get("algorithm", "WarmRecurrentPPO")):  # stock runs
        config = {k: v for k, v in config.items() if k not in WARM_RL_ONLY_FIELDS}
    kept = dict(
        _legacy_item(k, v)
        for k, v in config.items()
        if k not in BOOKKEEPING_FIELDS and not (k in OMITTED_WHEN_DEFAULT and v == OMITTED_WHEN_DEFAULT[k])
    )
    return json.dumps(kept, sort_keys=True)


def run_name(variant: str, config: dict) -> str:
    """File stem of a run's checkpoints: readable, and unique through a hash of its key.

    With a constant learning rate the step budget is left out: a longer rerun of
    a run continues from its checkpoints (the settings of its first steps are the
    same; the random streams differ after the resume point). A decaying learning
    rate or entropy coefficient depends on the budget, which then stays in the name.
    The digest is the one of :func:`run_key`, which keys the renamed fields under
    their legacy names: runs and checkpoints named before the rename keep their names.
    """
    constant = all(config.get(name, "constant") == "constant" for name in SCHEDULE_FIELDS)
    digest = hashlib.sha1(run_key({**config, "timesteps": None} if constant else config).encode()).hexdigest()[:10]
    length = config["env_kwargs"].get("length", "x")
    return f"{variant}_L{length}_seed{config['seed']}_{digest}"


def _run(config_dict: dict, variant: str, work_dir: str | None = None) -> dict:
    import torch

    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    save = None if work_dir is None else Path(work_dir) / f"{run_name(variant, config_dict)}.zip"
    result = train_agent(RunConfig(**config_dict), save=save, resume=save is not None)
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
        "training_curve": result.training_curve,
        "kl_early_stops": result.kl_early_stops,
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
    """The records of a sweep's JSONL file, their configs upgraded to the new field names."""
    return [upgrade_record(record) for record in sweep.load_records(path)]


def _run_job(job: tuple[str, dict], work_dir: str) -> dict:
    """Runs one ``(variant, config)`` job of :func:`run_sweep` (looks ``_run`` up at call time)."""
    variant, config = job
    return _run(config, variant, work_dir)


def _job_key(item: tuple[str, dict] | dict) -> str:
    """:func:`run_key` of a job ``(variant, config)`` or of a record (its ``config``)."""
    config = item["config"] if isinstance(item, dict) else item[1]
    return run_key(config)


def _print_result(result: dict) -> None:
    print(
        f"{result['variant']:>5} L={result['config']['env_kwargs'].get('length')} "
        f"seed={result['config']['seed']} success={result['success_rate']} "
        f"({result['seconds']:.0f} s)",
        flush=True,
    )


def run_sweep(
    runs: list[tuple[str, dict]],
    out: Path,
    workers: int = 1,
    ray_address: str | None = None,
    work_dir: Path | None = None,
) -> list[dict]:
    """Runs what ``out`` (JSONL) does not hold yet; returns all results.

    Args:
        runs: ``(variant, RunConfig dict)`` pairs, see :func:`plan_runs`.
        out: JSONL file, one line per finished run (appended as runs finish).
        workers: parallel local processes (ignored with ``ray_address``).
        ray_address: a Ray cluster address (``"auto"``, ``"local"``, ...).
        work_dir: where each run keeps its checkpoints and evaluation curve, so
            that a killed sweep resumes its unfinished runs where they were
            (default: ``<out without suffix>_runs/``; must be shared storage on
            a multi-machine Ray cluster).

    Returns:
        Every record of ``out`` (see :func:`load_results`), the earlier ones first.
    """
    out = Path(out)
    work = str(work_dir if work_dir is not None else out.with_name(out.stem + "_runs"))
    executor = ray_address if ray_address is not None else "process"
    sweep.run_sweep(
        runs, functools.partial(_run_job, work_dir=work), out, _job_key,
        executor=executor, workers=max(1, workers), on_result=_print_result,
    )
    return load_results(out)


def _by_length_and_variant(results: Iterable[dict]) -> dict[tuple[int, str], list[dict]]:
    """Results grouped by (corridor length, variant), in sorted order."""
    groups: dict[tuple[int, str], list[dict]] = defaultdict(list)
    for result in results:
        groups[(result["config"]["env_kwargs"].get("length"), result["variant"])].append(result)
    return dict(sorted(groups.items()))


def summarise(results: list[dict]) -> str:
    """Markdown table: per length and variant, solved runs, success, VAA."""
    groups = _by_length_and_variant(results)
    lines = [
        "| L | variant | solved (success >= 0.95) | mean greedy success | steps | VAA before -> after warm-up "
        "| training episodes ending in the task / succeeding (last window) |",
        "|---|---|---|---|---|---|---|",
    ]
    for (length, variant), group in groups.items():
        rates = [r["success_rate"] or 0.0 for r in group]
        solved = sum(rate >= SOLVED for rate in rates)
        vaa = [(r["vaa_before"], r["vaa_after"]) for r in group if r["vaa_after"] is not None]
        vaa_text = (
            f"{np.mean([b for b, _ in vaa]):.3f} -> {np.mean([a for _, a in vaa]):.3f}" if vaa else "-"
        )
        steps = group[0]["config"]["timesteps"]
        lines.append(
            f"| {length} | {variant} | {solved}/{len(group)} | {np.mean(rates):.2f} | {steps} | {vaa_text} "
            f"| {_training_text(group)} |"
        )
    return "\n".join(lines)


def _training_text(group: list[dict]) -> str:
    """Mean over runs of the last training-episode window: terminated and success fractions."""
    last = [r["training_curve"][-1] for r in group if r.get("training_curve")]
    if not last:
        return "-"
    terminated = np.mean([t for _, t, _ in last])
    successes = [s for _, _, s in last if s is not None]
    success = f"{np.mean(successes):.2f}" if successes else "-"
    return f"{terminated:.2f} / {success}"


def _mean_curves(
    results: list[dict], key: str, column: int
) -> dict[tuple[int, str], tuple[list, np.ndarray, np.ndarray, np.ndarray, int]]:
    """Per (L, variant): steps, the mean, 25th and 75th percentiles over seeds of ``result[key][:, column]``, seeds."""
    curves = {}
    for group_key, group in _by_length_and_variant(r for r in results if r.get(key)).items():
        steps = [point[0] for point in group[0][key]]
        values = [[point[column] or 0.0 for point in r[key]][: len(steps)] for r in group]
        width = min(len(v) for v in values)
        table = np.array([v[:width] for v in values])
        low, high = np.percentile(table, [25, 75], axis=0)
        curves[group_key] = (steps[:width], table.mean(axis=0), low, high, len(group))
    return curves


def plot(results: list[dict], path: Path) -> None:
    """Mean over seeds vs env steps, one line per (variant, L), with the interquartile band over
    seeds: greedy success of the periodic evaluations (left) and the fraction of training
    episodes that end in the task, e.g. reach the T-maze junction (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [
        ("history", 1, "greedy success rate (evaluation)"),
        ("training_curve", 1, "training episodes ending in the task"),
    ]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for ax, (key, column, label) in zip(axes, panels, strict=True):
        curves = _mean_curves(results, key, column)
        for (length, variant), (steps, mean, low, high, seeds) in curves.items():
            (line,) = ax.plot(steps, mean, label=f"{variant} L={length} ({seeds} seeds; band: quartiles)",
                              linestyle="--" if variant.startswith("cold") else "-")
            ax.fill_between(steps, low, high, color=line.get_color(), alpha=0.15, linewidth=0)
        ax.set_xlabel("env steps")
        ax.set_ylabel(label)
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
        if curves:
            ax.legend(fontsize=8)
        else:
            ax.text(0.5, 0.5, "not recorded", ha="center", va="center", transform=ax.transAxes)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
