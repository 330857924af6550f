"""Aggregate statistics of a few runs: interquartile mean and percentile-bootstrap intervals.

The estimators of Agarwal et al., "Deep RL at the edge of the statistical precipice"
(NeurIPS 2021), written with numpy: ``rliable`` computes the same, but pulls in
scipy, pandas, statsmodels, arch and seaborn for two functions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

BOOTSTRAP_SAMPLES = 2000
"""Resamples of every bootstrap interval."""


def _values(name: str, values: Sequence[float]) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence of numbers, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} holds non-finite values: {array.tolist()}")
    return array


def iqm(values: Sequence[float]) -> float:
    """Interquartile mean: the mean of the values left after cutting ``floor(n / 4)`` from each end.

    Args:
        values: one score per run, ``(n,)``.
    """
    array = np.sort(_values("values", values))
    cut = array.size // 4
    return float(array[cut : array.size - cut].mean())


def _iqm_rows(samples: np.ndarray) -> np.ndarray:
    """IQM of every row of ``(B, n)`` resamples."""
    ordered = np.sort(samples, axis=1)
    cut = ordered.shape[1] // 4
    return ordered[:, cut : ordered.shape[1] - cut].mean(axis=1)


def _resample(array: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return array[rng.integers(0, array.size, size=(BOOTSTRAP_SAMPLES, array.size))]


def iqm_interval(values: Sequence[float], confidence: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile-bootstrap interval of the IQM (runs resampled with replacement).

    Args:
        values: one score per run, ``(n,)``.
        confidence: the interval's coverage.
        seed: seed of the resampling.

    Returns:
        ``(low, high)``.
    """
    array = _values("values", values)
    estimates = _iqm_rows(_resample(array, np.random.default_rng(seed)))
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(estimates, [tail, 100 - tail])
    return float(low), float(high)


def iqm_difference_interval(
    first: Sequence[float], second: Sequence[float], confidence: float = 0.95, seed: int = 0
) -> tuple[float, float, float]:
    """IQM(first) - IQM(second) and its percentile-bootstrap interval (groups resampled independently).

    Args:
        first: scores of the first group's runs, ``(n,)``.
        second: scores of the second group's runs, ``(m,)``.
        confidence: the interval's coverage.
        seed: seed of the resampling.

    Returns:
        ``(difference, low, high)``.
    """
    a, b = _values("first", first), _values("second", second)
    rng = np.random.default_rng(seed)
    estimates = _iqm_rows(_resample(a, rng)) - _iqm_rows(_resample(b, rng))
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(estimates, [tail, 100 - tail])
    return iqm(a) - iqm(b), float(low), float(high)
