"""`WarmRecurrentPPO`: RecurrentPPO that warms its backbones up before the first update."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, ClassVar

import torch as th
from sb3_contrib import RecurrentPPO
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.utils import LinearSchedule

from agents.defaults import (
    DEFAULT_ENT_COEF,
    DEFAULT_LR_SCHEDULE,
    DEFAULT_NORMALIZE_ADVANTAGE,
    DEFAULT_PPO_KWARGS,
    DEFAULT_VAA_EVERY,
    DEFAULT_VAA_HORIZON,
    DEFAULT_WARMUP_ENV_STEPS,
)
from agents.policies import RENAMED_KWARGS, CnnWarmPolicy, MlpWarmPolicy, MultiInputWarmPolicy, WarmRecurrentPolicy
from agents.vaa_regularization import regularizer_step
from agents.warmup import check_warmup_arguments, log_rollout_vaa, split_trajectories, warm_up_if_needed
from warm_rl import VAARegularizer
from warm_rl.validation import reject_renamed


def warn_if_no_cuda(device: object) -> None:
    """Warns when ``device`` asks for CUDA on a machine without it (SB3 then uses the CPU without a word).

    Called by ``WarmRecurrentPPO(...)``, so ``WarmRecurrentPPO.load(..., device="cuda")`` warns too
    (SB3's ``load`` builds the model through the constructor); the scripts refuse such a device.
    """
    if str(device).startswith("cuda") and not th.cuda.is_available():
        warnings.warn(f"device={device!r} but CUDA is not available: running on the CPU", stacklevel=3)


def default_learning_rate(initial: float = DEFAULT_PPO_KWARGS["learning_rate"]) -> float | LinearSchedule:
    """The default learning rate: ``initial`` decayed linearly to 0 over a ``learn`` call
    (SB3's ``LinearSchedule`` of the remaining progress), or constant when
    :data:`agents.defaults.DEFAULT_LR_SCHEDULE` is ``"constant"``."""
    return LinearSchedule(float(initial), 0.0, 1.0) if DEFAULT_LR_SCHEDULE == "linear" else float(initial)


class WarmRecurrentPPO(RecurrentPPO):
    """Recurrent PPO with warmed-up `warm_rl` backbones.

    Before the first update of a fresh model it collects ``warmup_env_steps``
    env steps with the initial policy, and warms the actor and critic
    backbones up on those observation sequences (per the policy's ``warmup``
    config; :mod:`agents.warmup`). It never does so again: not on a second
    ``learn`` call, not after ``load`` (the policy's ``warmed_up`` flag is saved
    with its weights).

    Its defaults are the tuned ones, those of ``scripts/train.py``'s default run
    (:mod:`agents.defaults`): ``n_steps=128``, ``batch_size=128``, ``n_epochs=10``, a
    learning rate of 3e-4 decayed linearly to 0 over each ``learn`` call's budget
    (:func:`default_learning_rate`; a float ``learning_rate`` stays constant, as in SB3),
    ``target_kl=0.02`` (RecurrentPPO: None), no entropy bonus, and
    ``normalize_advantage=False`` (RecurrentPPO: True): in a solved task the advantages
    are noise that normalisation scales up.

    Args:
        policy: ``"MlpWarmPolicy"`` (default), ``"CnnWarmPolicy"``,
            ``"MultiInputWarmPolicy"`` or a WarmRecurrentPolicy subclass.
        env: the env (or its id).
        warmup_env_steps: env steps collected for warm-up.
        vaa_every: log ``train/vaa`` (exact VAA of the actor on the last
            rollout) every this many rollouts; 0 disables.
        vaa_horizon: perturbation steps ``M`` of that VAA.
        ent_coef: entropy coefficient, a float or a schedule of the remaining
            progress (1 -> 0, like SB3's learning-rate schedules), e.g.
            ``stable_baselines3.common.utils.LinearSchedule(0.01, 0.0, 1.0)``;
            the value of each update is logged as ``train/ent_coef``.
        vaa_reg: the VAA* regulariser that keeps the backbones multistable during training
            (:mod:`agents.vaa_regularization`): a weight ``lambda``, a dict of
            :class:`warm_rl.VAARegularizer` fields, or None (default: none). Saved with the model.
        **kwargs: everything RecurrentPPO accepts.

    Attributes:
        warmup_result: the warm-up outcome (:func:`agents.warmup.warm_up_model`),
            None before warm-up or when none was done.
        kl_early_stops: update phases that ``target_kl`` cut short (fewer than
            ``n_epochs`` epochs), since the model was made; logged as
            ``train/kl_early_stops`` and saved with the model.
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
        vaa_every: int = DEFAULT_VAA_EVERY,
        vaa_horizon: int = DEFAULT_VAA_HORIZON,
        ent_coef: float | Callable[[float], float] = DEFAULT_ENT_COEF,
        vaa_reg: float | dict | None = None,
        **kwargs: Any,
    ) -> None:
        check_warmup_arguments("WarmRecurrentPPO", warmup_env_steps, vaa_every, vaa_horizon, kwargs)
        warn_if_no_cuda(kwargs.get("device", "auto"))
        reject_renamed("WarmRecurrentPolicy", kwargs.get("policy_kwargs") or {}, RENAMED_KWARGS)
        self.warmup_env_steps = warmup_env_steps
        self.vaa_every = vaa_every
        self.vaa_horizon = vaa_horizon
        self.warmup_result: dict | None = None
        self._rollouts_done = 0
        regularizer = VAARegularizer.from_value(vaa_reg)  # validates
        self.vaa_reg: dict | None = None if regularizer is None else regularizer.to_dict()
        self._vaa_regularizer: VAARegularizer | None = regularizer
        self._train_calls = 0
        self.kl_early_stops = 0
        kwargs.setdefault("normalize_advantage", DEFAULT_NORMALIZE_ADVANTAGE)
        kwargs.setdefault("learning_rate", default_learning_rate())
        for name, value in DEFAULT_PPO_KWARGS.items():
            kwargs.setdefault(name, value)
        if callable(ent_coef):
            self.ent_coef_schedule: Callable[[float], float] | None = ent_coef
            ent_coef = float(ent_coef(1.0))
        elif isinstance(ent_coef, (int, float)) and not isinstance(ent_coef, bool):
            self.ent_coef_schedule = None
        else:
            raise TypeError(f"ent_coef must be a float or a schedule, got {ent_coef!r}")
        super().__init__(policy, env, ent_coef=ent_coef, **kwargs)

    def _setup_model(self) -> None:
        policy_class = self.policy_class
        if not (isinstance(policy_class, type) and issubclass(policy_class, WarmRecurrentPolicy)):
            name = getattr(policy_class, "__name__", repr(policy_class))
            raise TypeError(
                f"WarmRecurrentPPO needs a WarmRecurrentPolicy, got {name}: for a stock RecurrentPPO model use "
                "sb3_contrib.RecurrentPPO(.load), or build WarmRecurrentPPO('MlpWarmPolicy' / 'CnnWarmPolicy' / "
                "'MultiInputWarmPolicy', env)"
            )
        # Models saved before a policy argument was renamed load under the new name
        # (a new model with an old name was refused in __init__).
        for old, new in RENAMED_KWARGS.items():
            if old in self.policy_kwargs:
                self.policy_kwargs = {**self.policy_kwargs}
                self.policy_kwargs[new] = self.policy_kwargs.pop(old)
        if "vaa_steps" in self.__dict__:  # a model saved before vaa_steps became vaa_horizon
            self.vaa_horizon = self.__dict__.pop("vaa_steps")
        super()._setup_model()

    def _setup_learn(self, *args, **kwargs):
        result = super()._setup_learn(*args, **kwargs)
        # warm-up steps the env: the first rollout then starts from a fresh reset.
        warm_up_if_needed(self, self.warmup_env_steps, self.vaa_horizon)
        return result

    def learn(self, total_timesteps: int, callback=None, log_interval: int = 1,
              tb_log_name: str = "WarmRecurrentPPO", reset_num_timesteps: bool = True, progress_bar: bool = False):
        """RecurrentPPO's ``learn``; TensorBoard runs are named ``WarmRecurrentPPO_<n>``."""
        return super().learn(total_timesteps, callback=callback, log_interval=log_interval, tb_log_name=tb_log_name,
                             reset_num_timesteps=reset_num_timesteps, progress_bar=progress_bar)

    def collect_rollouts(self, *args, **kwargs) -> bool:
        finished = super().collect_rollouts(*args, **kwargs)
        self._rollouts_done += 1
        if finished:
            log_rollout_vaa(self, self._rollouts_done, self.vaa_every, self.vaa_horizon)
        return finished

    def train(self) -> None:
        schedule = getattr(self, "ent_coef_schedule", None)  # absent in models saved before it existed
        if schedule is not None:
            self.ent_coef = float(schedule(self._current_progress_remaining))
            self.logger.record("train/ent_coef", self.ent_coef)
        regularizer = self._regularizer()
        update = getattr(self, "_train_calls", 0)
        episodes = None
        if regularizer is not None and regularizer.due(update):  # read before train() flattens the buffer
            episodes = split_trajectories(self.rollout_buffer.observations, self.rollout_buffer.episode_starts)
        with _EpochWatch(self.rollout_buffer) as epochs:
            super().train()
        if self.target_kl is not None:
            self.kl_early_stops += int(epochs.finished < self.n_epochs)  # __init__ runs before load() restores it
            self.logger.record("train/kl_early_stops", self.kl_early_stops)
        if episodes is not None:
            regularizer_step(self, regularizer, episodes, update)
        self._train_calls = update + 1

    def _regularizer(self) -> VAARegularizer | None:
        """The VAA* regulariser (rebuilt from ``vaa_reg`` after a load), or None."""
        if getattr(self, "_vaa_regularizer", None) is None and getattr(self, "vaa_reg", None) is not None:
            self._vaa_regularizer = VAARegularizer(**self.vaa_reg)
        return getattr(self, "_vaa_regularizer", None)

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "warmup_result", "_vaa_regularizer"]


class _EpochWatch:
    """Counts the epochs of one ``train()`` call that ran to their end.

    RecurrentPPO's ``train()`` draws each epoch's minibatches from one
    ``rollout_buffer.get(batch_size)`` generator and leaves it unfinished when ``target_kl``
    stops the update phase; counting finished generators works across sb3-contrib versions
    (older ones add ``n_epochs`` to ``_n_updates`` whether or not the phase was cut short).
    """

    def __init__(self, buffer) -> None:
        self.buffer = buffer
        self.finished = 0

    def __enter__(self) -> _EpochWatch:
        original = self.buffer.get

        def get(*args, **kwargs):
            yield from original(*args, **kwargs)
            self.finished += 1

        self.buffer.get = get  # shadows the method on this instance only
        return self

    def __exit__(self, *exc_info) -> None:
        del self.buffer.get
