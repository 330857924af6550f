"""Figures of the supervised benchmarks (matplotlib is imported only when plotting).

* :func:`plot_learning_curves` - the paper's Figure 1: test loss and VAA per
  epoch, one curve (mean +- std over seeds) per warm-up mode.
* :func:`plot_warmup_vaa_star` - the paper's Figure 2: VAA* of every layer
  during warm-up, one curve per warm-up mode.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _mean_std(rows: Sequence[Sequence[float]]) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std over runs of ragged curves (shorter runs padded with nan)."""
    length = max(len(r) for r in rows)
    grid = np.full((len(rows), length), np.nan)
    for i, row in enumerate(rows):
        grid[i, : len(row)] = row
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmean(grid, 0), np.nanstd(grid, 0)


def _band(ax, x, mean, std, label):
    line = ax.plot(x, mean, label=label)[0]
    ax.fill_between(x, mean - std, mean + std, alpha=0.2, color=line.get_color())


def plot_learning_curves(
    histories: Mapping[str, Sequence[Sequence[dict]]],
    path: str | os.PathLike,
    title: str = "",
    metric_label: str = "test loss",
    log_loss: bool = True,
) -> None:
    """Test loss and VAA per epoch, mean +- std over seeds (paper, Figure 1).

    Args:
        histories: label (e.g. warm-up mode) -> one history per seed, a history
            being the list of per-epoch dicts of
            :attr:`warm_rl.suite.trainer.TrainResult.history` (keys ``epoch``,
            ``test_loss``, ``vaa``).
        path: PNG file to write.
        title: figure title.
        metric_label: y label of the left panel. Histories without any finite
            ``test_loss`` (tested only at the end) show ``val_loss`` instead,
            labelled "validation".
        log_loss: logarithmic loss axis.
    """
    plt = _pyplot()
    fig, (ax_loss, ax_vaa) = plt.subplots(1, 2, figsize=(10, 3.8))
    losses = [h.get("test_loss", math.nan) for runs in histories.values() for r in runs for h in r]
    loss_key = "test_loss"
    if not any(math.isfinite(v) for v in losses):  # trained with the test set only at the end
        loss_key = "val_loss"
        metric_label = metric_label.replace("test", "validation")
    for label, runs in histories.items():
        runs = [r for r in runs if r]
        if not runs:
            continue
        epochs = np.arange(max(len(r) for r in runs))
        for ax, key in ((ax_loss, loss_key), (ax_vaa, "vaa")):
            mean, std = _mean_std([[h[key] for h in r] for r in runs])
            _band(ax, epochs, mean, std, f"{label} ({len(runs)} seed{'s' * (len(runs) > 1)})")
    from matplotlib.ticker import MaxNLocator

    for ax in (ax_loss, ax_vaa):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax_loss.set(xlabel="epoch", ylabel=metric_label)
    shown = [v for runs in histories.values() for r in runs for h in r if math.isfinite(v := h.get(loss_key, math.nan))]
    if log_loss and shown and min(shown) > 0:
        ax_loss.set_yscale("log")
    ax_vaa.set(xlabel="epoch", ylabel="VAA (whole network)", ylim=(0, 1.05))
    ax_loss.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_warmup_vaa_star(
    reports: Mapping[str, Sequence[Mapping]],
    path: str | os.PathLike,
    title: str = "",
) -> None:
    """VAA* of every layer during warm-up, mean +- std over seeds (paper, Figure 2).

    Args:
        reports: label (e.g. warm-up mode) -> one warm-up report per seed, as a
            dict with key ``vaa_star`` (per step, the VAA* of every layer).
        path: PNG file to write.
        title: figure title.
    """
    plt = _pyplot()
    reports = {k: [r for r in v if r and r.get("vaa_star")] for k, v in reports.items()}
    reports = {k: v for k, v in reports.items() if v}
    layers = max((len(r["vaa_star"][0]) for v in reports.values() for r in v), default=1)
    fig, axes = plt.subplots(1, layers, figsize=(4.5 * layers, 3.6), squeeze=False)
    for label, runs in reports.items():
        for layer in range(layers):
            curves = [
                [step[layer] if layer < len(step) else math.nan for step in r["vaa_star"]]
                for r in runs
            ]
            mean, std = _mean_std(curves)
            _band(axes[0, layer], np.arange(len(mean)), mean, std, f"{label} ({len(runs)})")
    for layer in range(layers):
        axes[0, layer].set(xlabel="warm-up step", ylabel=f"VAA* layer {layer + 1}", ylim=(0, 1.05))
    axes[0, 0].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
