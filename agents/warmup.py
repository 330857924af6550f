"""Warm-up of an SB3 model: collect rollout sequences, warm the backbones up, report.

The one warm-up path of the agents: :class:`agents.WarmRecurrentPPO` calls
:func:`warm_up_if_needed` before its first update and :func:`log_rollout_vaa` after
every rollout; :class:`WarmupCallback` calls the same two functions from a plain
``RecurrentPPO``. The outcome is always ``model.warmup_result``.
"""

from __future__ import annotations

import time

import numpy as np
import torch as th
from sb3_contrib import RecurrentPPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import TensorBoardOutputFormat

from agents.defaults import DEFAULT_VAA_EVERY, DEFAULT_VAA_HORIZON, DEFAULT_WARMUP_ENV_STEPS
from agents.policies import Observation, WarmRecurrentPolicy
from warm_rl import vaa
from warm_rl.validation import check_int, reject_renamed


def _check_policy(model: RecurrentPPO) -> WarmRecurrentPolicy:
    if not isinstance(model.policy, WarmRecurrentPolicy):
        raise TypeError(
            f"warm-up needs a WarmRecurrentPolicy, got {type(model.policy).__name__}; "
            "use MlpWarmPolicy / CnnWarmPolicy / MultiInputWarmPolicy"
        )
    return model.policy


def split_trajectories(observations: Observation, episode_starts: np.ndarray) -> list[Observation]:
    """Cuts ``(T, n_envs, ...)`` observations into per-env trajectories at episode starts.

    Args:
        observations: array ``(T, n_envs, *obs_shape)`` or a dict of such arrays.
        episode_starts: ``(T, n_envs)``, true where a step begins a new episode.

    Returns:
        Trajectories ``(len_i, *obs_shape)`` (dicts for Dict observations),
        whole episodes and the truncated pieces at both ends.
    """
    starts = np.asarray(episode_starts, dtype=bool).copy()
    steps, n_envs = starts.shape
    starts[0] = True
    pieces = []
    for env in range(n_envs):
        cuts = np.flatnonzero(starts[:, env]).tolist() + [steps]
        for begin, end in zip(cuts[:-1], cuts[1:], strict=True):
            if isinstance(observations, dict):
                pieces.append({k: v[begin:end, env] for k, v in observations.items()})
            else:
                pieces.append(observations[begin:end, env])
    return pieces


def collect_sequences(model: RecurrentPPO, n_steps: int) -> list[Observation]:
    """Runs the model's current (initial) policy in its env and records observations.

    The env is reset before and after, and ``model._last_obs`` is restored to a
    fresh reset so that training starts from clean episodes.

    Args:
        model: a RecurrentPPO whose policy is a WarmRecurrentPolicy.
        n_steps: env steps to collect in total (over all envs).

    Returns:
        Observation trajectories (see :func:`split_trajectories`).
    """
    if n_steps < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps}")
    env = model.get_env()
    if env is None:
        raise ValueError("the model has no env to collect warm-up sequences from")
    policy = _check_policy(model)
    per_env = max(1, -(-n_steps // env.num_envs))
    obs = env.reset()
    starts = np.ones(env.num_envs, dtype=bool)
    state = None
    recorded, recorded_starts = [], []
    for _ in range(per_env):
        recorded.append(obs)
        recorded_starts.append(starts)
        actions, state = policy.predict(obs, state, starts, deterministic=False)
        obs, _, dones, _ = env.step(actions)
        starts = dones
    model._last_obs = env.reset()
    model._last_episode_starts = np.ones(env.num_envs, dtype=bool)
    if isinstance(recorded[0], dict):
        stacked = {key: np.stack([o[key] for o in recorded]) for key in recorded[0]}
    else:
        stacked = np.stack(recorded)
    return split_trajectories(stacked, np.stack(recorded_starts))


def warm_up_model(model: RecurrentPPO, env_steps: int, vaa_horizon: int = DEFAULT_VAA_HORIZON) -> dict:
    """Collects ``env_steps`` of rollouts, pre-trains the backbones, logs under ``warmup/``.

    The pre-training is the policy's ``pretrain``: warm-up, LSC, or warm-up then
    LSC. The episodes' features are computed once: pre-training changes only the
    recurrent backbones, so the features extractors map the episodes the same
    way before and after it.

    Logged, all under ``warmup/`` whatever the procedure. The per-step curves go to
    TensorBoard only (the logger's TensorBoard writers, the pre-training step as
    their x axis): per warm-up step ``warmup/loss_<net>`` and
    ``warmup/vaa_star_<net>_<layer>``; per LSC step ``warmup/lsc_loss_<net>`` and
    ``warmup/lsc_radius_<net>_<term>`` (terms: ``recurrent_<l>``, ``depth_<l>``,
    ``input``). One summary is recorded in the SB3 logger and written with the
    first training dump (stdout, CSV, TensorBoard, beside ``time/total_timesteps``):
    ``warmup/seconds``, ``warmup/restarts``, ``warmup/episodes``, ``warmup/env_steps``,
    ``warmup/vaa_before`` and ``warmup/vaa_after`` (exact VAA of the actor on the
    collected sequences, over ``vaa_horizon`` steps), and for LSC ``warmup/lsc_steps``
    and ``warmup/lsc_converged`` (1 when every radius reached its target before the
    step budget).

    Args:
        model: a RecurrentPPO whose policy is a WarmRecurrentPolicy.
        env_steps: env steps to collect in total (over all envs).
        vaa_horizon: perturbation steps ``M`` of the VAA before and after.

    Returns:
        The warm-up reports by backbone name (when warm-up ran), ``"lsc"``: the LSC
        reports by backbone name (when LSC ran), ``"vaa_before"``/``"vaa_after"``
        and ``"seconds"``; also stored as ``model.warmup_result``.
    """
    policy = _check_policy(model)
    start = time.perf_counter()
    episodes = collect_sequences(model, env_steps)
    features = policy.episode_features(episodes)
    before = vaa(policy.lstm_actor, features["actor"], horizon=vaa_horizon, seed=0)
    logger = model.logger
    writers = tensorboard_writers(logger)

    def log_warmup_step(name: str, step: int, loss: float, values: list[float]) -> None:
        for writer in writers:
            writer.add_scalar(f"warmup/loss_{name}", loss, step)
            for layer, value in enumerate(values):
                writer.add_scalar(f"warmup/vaa_star_{name}_{layer}", value, step)

    def log_lsc_step(name: str, step: int, loss: float, radii: dict[str, float]) -> None:
        for writer in writers:
            writer.add_scalar(f"warmup/lsc_loss_{name}", loss, step)
            for term, value in radii.items():
                writer.add_scalar(f"warmup/lsc_radius_{name}_{term}", value, step)

    done = policy.pretrain_features(features, log_warmup_step, log_lsc_step)
    after = vaa(policy.lstm_actor, features["actor"], horizon=vaa_horizon, seed=0)
    seconds = time.perf_counter() - start
    warmup_reports = done.get("warmup", {})
    lsc_reports = done.get("lsc", {})
    logger.record("warmup/seconds", seconds)
    logger.record("warmup/restarts", sum(r.restarts for r in [*warmup_reports.values(), *lsc_reports.values()]))
    logger.record("warmup/vaa_before", before)
    logger.record("warmup/vaa_after", after)
    logger.record("warmup/episodes", len(episodes))
    logger.record("warmup/env_steps", env_steps)
    if lsc_reports:
        logger.record("warmup/lsc_steps", max(r.steps for r in lsc_reports.values()))
        logger.record("warmup/lsc_converged", float(all(r.stop_reason == "converged" for r in lsc_reports.values())))
    for writer in writers:
        writer.flush()
    result: dict = {**warmup_reports, "vaa_before": before, "vaa_after": after, "seconds": seconds}
    if lsc_reports:
        result["lsc"] = lsc_reports
    model.warmup_result = result
    return result


def tensorboard_writers(logger) -> list:
    """The ``SummaryWriter`` of every TensorBoard output of an SB3 logger (none without TensorBoard)."""
    return [f.writer for f in getattr(logger, "output_formats", []) if isinstance(f, TensorBoardOutputFormat)]


def needs_warmup(model: RecurrentPPO) -> bool:
    """True for a fresh model whose policy has a pre-training (not loaded, not pre-trained yet)."""
    policy = model.policy
    return getattr(policy, "pretrain", None) is not None and not bool(policy.warmed_up)


def warm_up_if_needed(model: RecurrentPPO, env_steps: int, vaa_horizon: int = DEFAULT_VAA_HORIZON) -> dict | None:
    """:func:`warm_up_model` unless the model is warmed up already or has warm-up off.

    Returns:
        The new ``model.warmup_result``, or None when nothing was done.
    """
    if not needs_warmup(model):
        return None
    return warm_up_model(model, env_steps, vaa_horizon)


def rollout_vaa(model: RecurrentPPO, horizon: int = DEFAULT_VAA_HORIZON) -> float:
    """Exact VAA of the actor backbone on the trajectories of the last rollout.

    Reads ``model.rollout_buffer`` before it is flattened for training
    (observations ``(n_steps, n_envs, ...)``).
    """
    policy = _check_policy(model)
    buffer = model.rollout_buffer
    episodes = split_trajectories(buffer.observations, buffer.episode_starts)
    with th.no_grad():
        features = policy.episode_features(episodes)["actor"]
    return vaa(policy.lstm_actor, features, horizon=horizon, seed=0)


def log_rollout_vaa(model: RecurrentPPO, rollouts_done: int, every: int, horizon: int) -> None:
    """Records ``train/vaa`` (:func:`rollout_vaa`) after every ``every``-th rollout (0: never)."""
    if every and rollouts_done % every == 0:
        model.logger.record("train/vaa", rollout_vaa(model, horizon))


def check_warmup_arguments(
    owner: str, env_steps: object, vaa_every: object, vaa_horizon: object, extra: dict
) -> None:
    """The checks shared by WarmRecurrentPPO and WarmupCallback (``extra``: their other kwargs)."""
    reject_renamed(owner, extra, {"vaa_steps": "vaa_horizon"})
    check_int("warmup_env_steps", env_steps, minimum=1)
    check_int("vaa_every", vaa_every, minimum=0)
    check_int("vaa_horizon", vaa_horizon, minimum=1)


class WarmupCallback(BaseCallback):
    """Warm-up for a plain ``RecurrentPPO(WarmRecurrentPolicy, ...)``, as WarmRecurrentPPO does it.

    Warms the policy up when training starts (unless already warmed up, loaded, or
    built with ``pretrain=None``), stores the outcome on ``model.warmup_result``, and
    logs ``train/vaa`` every ``vaa_every`` rollouts. A model whose policy is not a
    :class:`WarmRecurrentPolicy` (e.g. stock ``MlpLstmPolicy``) makes ``learn`` raise
    a ``TypeError`` when training starts.

    Args:
        warmup_env_steps: env steps collected with the initial policy.
        vaa_every: rollouts between two ``train/vaa`` measurements; 0 disables.
        vaa_horizon: perturbation steps ``M`` of the VAA measurements.
        verbose: SB3 verbosity.
    """

    def __init__(
        self,
        warmup_env_steps: int = DEFAULT_WARMUP_ENV_STEPS,
        vaa_every: int = DEFAULT_VAA_EVERY,
        vaa_horizon: int = DEFAULT_VAA_HORIZON,
        verbose: int = 0,
        **renamed: object,
    ) -> None:
        check_warmup_arguments("WarmupCallback", warmup_env_steps, vaa_every, vaa_horizon, renamed)
        if renamed:
            raise TypeError(f"WarmupCallback got unexpected arguments {sorted(renamed)}")
        super().__init__(verbose)
        self.warmup_env_steps = warmup_env_steps
        self.vaa_every = vaa_every
        self.vaa_horizon = vaa_horizon
        self._rollouts = 0

    @property
    def result(self) -> dict | None:
        """The model's ``warmup_result`` (None before warm-up or when none was done)."""
        return getattr(getattr(self, "model", None), "warmup_result", None)

    def _on_training_start(self) -> None:
        _check_policy(self.model)  # a stock policy has nothing to warm up: say so rather than do nothing
        result = warm_up_if_needed(self.model, self.warmup_env_steps, self.vaa_horizon)
        if result is not None and self.verbose:
            print(f"warm-up: VAA {result['vaa_before']:.3f} -> {result['vaa_after']:.3f}")

    def _on_rollout_end(self) -> None:
        self._rollouts += 1
        log_rollout_vaa(self.model, self._rollouts, self.vaa_every, self.vaa_horizon)

    def _on_step(self) -> bool:
        return True
