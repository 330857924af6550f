"""The VAA* regulariser in PPO: keeping the backbones multistable while the agent trains.

SB3's ``train()`` has no hook into its loss, so the regulariser
(:class:`warm_rl.VAARegularizer`) is applied as its own optimiser step right after each
PPO update phase where it is due (every ``every`` phases), on the episodes of the rollout
just used: ``lambda * mean_l (VAA*_l - k)^2`` summed over the pre-trained backbones
(actor, and critic when it has one), warm halves only for double layers, through the
policy's optimiser with its current learning rate and PPO's gradient clipping. Logged as
``train/vaa_reg_loss`` and ``train/vaa_reg_vaa_star``. A one-sided regulariser
(``floor=True``) whose backbones are all at or above its target takes no step at all (a
zero-gradient step would still move Adam's parameters by its momentum), so while it is idle
the agent trains exactly as without it.
"""

from __future__ import annotations

import time

import torch as th

from warm_rl import VAARegularizer
from warm_rl.sequences import as_padded


def regularizer_step(model, regularizer: VAARegularizer, episodes: list, update: int) -> dict[str, float]:
    """One optimiser step on the regulariser of ``model``'s backbones.

    Args:
        model: a WarmRecurrentPPO (its policy, optimiser, ``max_grad_norm`` and logger are used).
        regularizer: the regulariser.
        episodes: the rollout's observation sequences (:func:`agents.warmup.split_trajectories`).
        update: the index of the PPO update phase (the regulariser's cadence).

    Returns:
        ``vaa_reg_loss`` (the term, summed over backbones), ``vaa_reg_vaa_star`` (mean
        VAA* over backbones and layers), ``vaa_reg_stepped`` (1.0 when it took an optimiser
        step, 0.0 when a ``floor`` regulariser was idle) and ``vaa_reg_seconds`` (the
        step's wall time).
    """
    start = time.perf_counter()
    policy = model.policy
    features = policy.episode_features(episodes)
    total, values = None, []
    for name, net in policy.backbones().items():
        dtype = next(net.parameters()).dtype
        padded, lengths = as_padded(features[name], net.input_size, policy.device, dtype)
        term = regularizer.term(net, padded, lengths, update)
        if term is None:
            continue
        total = term if total is None else total + term
        values.append(regularizer.last_values)
    if total is None:
        return {}
    if total.requires_grad:
        policy.optimizer.zero_grad(set_to_none=True)
        total.backward()
        th.nn.utils.clip_grad_norm_(policy.parameters(), model.max_grad_norm)
        policy.optimizer.step()
    stats = {
        "vaa_reg_loss": float(total.detach()),
        "vaa_reg_vaa_star": float(th.cat(values).mean()),
        "vaa_reg_stepped": float(total.requires_grad),
        "vaa_reg_seconds": time.perf_counter() - start,
    }
    for key, value in stats.items():
        model.logger.record(f"train/{key}", value)
    return stats
