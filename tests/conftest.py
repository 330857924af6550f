"""Test-wide settings and shared checks.

One torch thread (tiny tensors; avoids oversubscribing CI's 2 cores).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

torch.set_num_threads(1)


def _assert_same_greedy_actions(model, other, env, steps: int = 6, compare_states: bool = False) -> None:
    """Step ``env`` with ``model``'s greedy actions and check ``other`` picks the same ones at every step."""
    obs = env.reset()
    state_a = state_b = None
    starts = np.ones(env.num_envs, dtype=bool)
    for _ in range(steps):
        a, state_a = model.predict(obs, state_a, starts, deterministic=True)
        b, state_b = other.predict(obs, state_b, starts, deterministic=True)
        np.testing.assert_array_equal(a, b)
        if compare_states:
            np.testing.assert_allclose(state_a[0], state_b[0])
        obs, _, starts, _ = env.step(a)


@pytest.fixture
def assert_same_greedy_actions():
    """The check that a saved-and-loaded agent acts exactly as the original."""
    return _assert_same_greedy_actions
