"""`WarmupCallback`: warm-up for a plain ``RecurrentPPO(WarmRecurrentPolicy, ...)``."""

from __future__ import annotations

from stable_baselines3.common.callbacks import BaseCallback

from agents.defaults import DEFAULT_VAA_STEPS, DEFAULT_WARMUP_ENV_STEPS
from agents.hook import rollout_vaa, warm_up_model


class WarmupCallback(BaseCallback):
    """Warms a RecurrentPPO's WarmRecurrentPolicy up when training starts.

    Does nothing if the policy is already warmed up (a loaded model, a second
    ``learn`` call) or was built with ``warmup=None``. Optionally logs
    ``train/vaa`` every ``vaa_every`` rollouts.

    Args:
        warmup_env_steps: env steps collected with the initial policy.
        vaa_every: rollouts between two ``train/vaa`` measurements; 0 disables.
        vaa_steps: perturbation steps of that VAA.
        verbose: SB3 verbosity.
    """

    def __init__(
        self,
        warmup_env_steps: int = DEFAULT_WARMUP_ENV_STEPS,
        vaa_every: int = 0,
        vaa_steps: int = DEFAULT_VAA_STEPS,
        verbose: int = 0,
    ) -> None:
        super().__init__(verbose)
        if warmup_env_steps < 1:
            raise ValueError(f"warmup_env_steps must be >= 1, got {warmup_env_steps}")
        self.warmup_env_steps = warmup_env_steps
        self.vaa_every = vaa_every
        self.vaa_steps = vaa_steps
        self.result: dict | None = None
        self._rollouts = 0

    def _on_training_start(self) -> None:
        policy = self.model.policy
        if getattr(policy, "warmup_config", None) is None or bool(policy.warmed_up):
            return
        self.result = warm_up_model(self.model, self.warmup_env_steps, self.vaa_steps)
        if self.verbose:
            print(f"warm-up: VAA {self.result['vaa_before']:.3f} -> {self.result['vaa_after']:.3f}")

    def _on_rollout_end(self) -> None:
        self._rollouts += 1
        if self.vaa_every and self._rollouts % self.vaa_every == 0:
            self.logger.record("train/vaa", rollout_vaa(self.model, self.vaa_steps))

    def _on_step(self) -> bool:
        return True
