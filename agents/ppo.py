"""`WarmRecurrentPPO`: RecurrentPPO that warms its backbones up before the first update."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from sb3_contrib import RecurrentPPO
from stable_baselines3.common.policies import BasePolicy

from agents.defaults import (
    DEFAULT_FEATURE_SKIP,
    DEFAULT_NORMALIZE_ADVANTAGE,
    DEFAULT_VAA_STEPS,
    DEFAULT_WARMUP_ENV_STEPS,
)
from agents.hook import rollout_vaa, warm_up_model
from agents.policies import CnnWarmPolicy, MlpWarmPolicy, MultiInputWarmPolicy, WarmRecurrentPolicy


class WarmRecurrentPPO(RecurrentPPO):
    """Recurrent PPO with warmed-up `warm_rl` backbones.

    Before the first update of a fresh model it collects ``warmup_env_steps``
    env steps with the initial policy, and warms the actor and critic
    backbones up on those observation sequences (per the policy's ``warmup``
    config). It never does so again: not on a second ``learn`` call, not after
    ``load`` (the policy's ``warmed_up`` flag is saved with its weights).

    Unless ``policy_kwargs`` says otherwise, its policy has ``feature_skip=True``
    (the heads see the features beside the recurrent output; the policy class
    itself defaults to the stock layout): on the T-maze the heads then learn to
    walk the corridor from what they see, and the recurrent state only has to
    carry the cue (``results/rl_tmaze_memory.md``). It also defaults to
    ``normalize_advantage=False`` (RecurrentPPO: True): in a solved task the
    advantages are noise, and normalising them per minibatch turns that noise
    into full-size updates that eventually break the solution (same file).

    Args:
        policy: ``"MlpWarmPolicy"`` (default), ``"CnnWarmPolicy"``,
            ``"MultiInputWarmPolicy"`` or a WarmRecurrentPolicy subclass.
        env: the env (or its id).
        warmup_env_steps: env steps collected for warm-up.
        vaa_every: log ``train/vaa`` (exact VAA of the actor on the last
            rollout) every this many rollouts; 0 disables.
        vaa_steps: perturbation steps ``M`` of that VAA.
        ent_coef: entropy coefficient, a float or a schedule of the remaining
            progress (1 -> 0, like SB3's learning-rate schedules), e.g.
            ``stable_baselines3.common.utils.LinearSchedule(0.01, 0.0, 1.0)``;
            the value of each update is logged as ``train/ent_coef``.
        **kwargs: everything RecurrentPPO accepts.
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {
        "MlpWarmPolicy": MlpWarmPolicy,
        "CnnWarmPolicy": CnnWarmPolicy,
        "MultiInputWarmPolicy": MultiInputWarmPolicy,
    }

    def __init__(
        self,
        policy: str | type = "MlpWarmPolicy",
        env: Any = None,
        warmup_env_steps: int = DEFAULT_WARMUP_ENV_STEPS,
        vaa_every: int = 10,
        vaa_steps: int = DEFAULT_VAA_STEPS,
        ent_coef: float | Callable[[float], float] = 0.0,
        **kwargs: Any,
    ) -> None:
        if warmup_env_steps < 1:
            raise ValueError(f"warmup_env_steps must be >= 1, got {warmup_env_steps}")
        if vaa_every < 0:
            raise ValueError(f"vaa_every must be >= 0, got {vaa_every}")
        self.warmup_env_steps = warmup_env_steps
        self.vaa_every = vaa_every
        self.vaa_steps = vaa_steps
        self.warmup_result: dict | None = None
        self._rollouts_done = 0
        policy_class = self.policy_aliases.get(policy, policy) if isinstance(policy, str) else policy
        if isinstance(policy_class, type) and issubclass(policy_class, WarmRecurrentPolicy):
            # load() overwrites policy_kwargs with the saved ones: old models keep their layout.
            kwargs["policy_kwargs"] = {"feature_skip": DEFAULT_FEATURE_SKIP, **(kwargs.get("policy_kwargs") or {})}
        kwargs.setdefault("normalize_advantage", DEFAULT_NORMALIZE_ADVANTAGE)
        if callable(ent_coef):
            self.ent_coef_schedule: Callable[[float], float] | None = ent_coef
            ent_coef = float(ent_coef(1.0))
        elif isinstance(ent_coef, (int, float)) and not isinstance(ent_coef, bool):
            self.ent_coef_schedule = None
        else:
            raise TypeError(f"ent_coef must be a float or a schedule, got {ent_coef!r}")
        super().__init__(policy, env, ent_coef=ent_coef, **kwargs)

    def _setup_learn(self, *args, **kwargs):
        result = super()._setup_learn(*args, **kwargs)
        policy = self.policy
        if policy.warmup_config is not None and not bool(policy.warmed_up):
            self.warmup_result = warm_up_model(self, self.warmup_env_steps, self.vaa_steps)
            # warm-up stepped the env: the first rollout starts from a fresh reset.
        return result

    def collect_rollouts(self, *args, **kwargs) -> bool:
        finished = super().collect_rollouts(*args, **kwargs)
        self._rollouts_done += 1
        if finished and self.vaa_every and self._rollouts_done % self.vaa_every == 0:
            self.logger.record("train/vaa", rollout_vaa(self, self.vaa_steps))
        return finished

    def train(self) -> None:
        schedule = getattr(self, "ent_coef_schedule", None)  # absent in models saved before it existed
        if schedule is not None:
            self.ent_coef = float(schedule(self._current_progress_remaining))
            self.logger.record("train/ent_coef", self.ent_coef)
        super().train()

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "warmup_result"]
