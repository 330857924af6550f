"""What ``warm-rl-train`` shows at the end of a run: a small table and a learning-curve figure."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from agents.training import RunResult


def _number(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def result_table(result: RunResult) -> Table:
    """A rich table of a finished run: task, steps, wall time, VAA before/after, success, return.

    Args:
        result: what :func:`agents.training.train_agent` returned.
    """
    config = result.config
    evaluation = result.evaluation
    table = Table(title="warm-rl run", show_header=True, header_style="bold")
    for column in ("task", "agent", "steps", "wall time", "VAA before -> after", "greedy success", "mean return"):
        table.add_column(column, justify="left" if column in ("task", "agent") else "right")
    kwargs = " ".join(f"{k}={v}" for k, v in config["env_kwargs"].items())
    agent = config["algorithm"] if config["algorithm"] == "RecurrentPPO" else (
        f"{config['cell']} {'double' if config['double'] else 'single'} x{config['num_layers']}, "
        f"pretrain={config['pretrain']}")
    table.add_row(
        f"{config['env']} {kwargs}".strip(), agent, f"{result.timesteps:,}", f"{result.seconds:.0f} s",
        f"{_number(result.vaa_before)} -> {_number(result.vaa_after)}", _number(evaluation.success_rate),
        f"{evaluation.mean_return:.3f} ({evaluation.episodes} ep.)",
    )
    return table


def curve_path(save: str | Path) -> Path:
    """Where the learning curve of a run saved at ``<save>.zip`` goes: ``<save>_curve.png``."""
    save = Path(save)
    stem = save.with_suffix("") if save.suffix == ".zip" else save
    return stem.with_name(stem.name + "_curve.png")


def plot_learning_curve(result: RunResult, path: str | Path) -> Path | None:
    """Greedy evaluations (success rate, mean return) and the training-episode curve against env steps.

    Args:
        result: a run with a periodic evaluation (``eval_every > 0``).
        path: the PNG to write.

    Returns:
        The path written, or None when the run recorded no curve.
    """
    if not result.history and not result.training_curve:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    if result.history:
        steps = [point[0] for point in result.history]
        left.plot(steps, [point[2] for point in result.history], marker="o", label="mean return (greedy)")
        if any(point[1] is not None for point in result.history):
            rates = [point[1] if point[1] is not None else float("nan") for point in result.history]
            twin = left.twinx()
            twin.plot(steps, rates, color="tab:green", marker="s", label="success rate (greedy)")
            twin.set_ylim(-0.02, 1.02)
            twin.set_ylabel("success rate")
        left.set_ylabel("mean return")
    left.set_title("evaluation")
    if result.training_curve:
        right.plot([p[0] for p in result.training_curve], [p[1] for p in result.training_curve],
                   label="episodes ending by termination")
        right.set_ylim(-0.02, 1.02)
    right.set_title("training episodes")
    for ax in (left, right):
        ax.set_xlabel("env steps")
        ax.grid(alpha=0.3)
    fig.suptitle(f"{result.config['env']} {result.config['env_kwargs']}")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
