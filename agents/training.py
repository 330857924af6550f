"""One training run of a (warmed-up) recurrent PPO agent, with checkpoints and resume.

``scripts/train.py`` and ``scripts/benchmark_rl.py`` are thin wrappers around
:func:`train_agent`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from sb3_contrib import RecurrentPPO
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.utils import LinearSchedule
from stable_baselines3.common.vec_env import VecEnv

import envs  # noqa: F401  (registers the warm_rl/ tasks)
from agents.checkpoints import (
    KeepLastCheckpoints,
    ResumeState,
    latest_checkpoint,
    load_resume_state,
    restore_model_state,
    save_model,
)
from agents.defaults import (
    AGENT_DEFAULTS_VERSION,
    DEFAULT_ENT_COEF,
    DEFAULT_ENT_SCHEDULE,
    DEFAULT_FEATURE_SKIP,
    DEFAULT_LR_SCHEDULE,
    DEFAULT_PPO_KWARGS,
    DEFAULT_PRETRAIN,
    DEFAULT_VAA_HORIZON,
    DEFAULT_WARMUP,
    DEFAULT_WARMUP_ENV_STEPS,
    PRETRAIN_CHOICES,
)
from agents.evaluation import Evaluation, evaluate
from agents.ppo import WarmRecurrentPPO
from agents.run_tracking import (
    NanGuard,
    PeriodicEvaluation,
    RecordWarmup,
    RunRecord,
    TrainingEpisodeStats,
    warmup_summary,
)
from agents.wrappers import PreviousActionReward, TruncationAsTermination
from warm_rl import VAARegularizer
from warm_rl.validation import check_bool, check_int, check_number, refuse_renamed_fields

DEFAULT_ENV = "warm_rl/TMaze-v0"

ALGORITHMS = ("WarmRecurrentPPO", "RecurrentPPO")
"""Values of ``RunConfig.algorithm``: ours, or stock sb3-contrib RecurrentPPO (the baseline)."""

SCHEDULES = ("constant", "linear")
"""Values of the schedule fields of ``RunConfig``."""

SCHEDULE_FIELDS = ("lr_schedule", "ent_schedule")
"""``RunConfig`` fields that take one of ``SCHEDULES``."""


RENAMED_FIELDS: dict[str, str] = {"n_layers": "num_layers", "vaa_steps": "vaa_horizon", "warmup": "pretrain"}
"""Old :class:`RunConfig` field names and their new names (the old ones raise ``TypeError``).
``warmup`` was a bool: ``warmup=True`` is ``pretrain="warmup"``, ``warmup=False`` is ``pretrain=None``."""


@refuse_renamed_fields("RunConfig", RENAMED_FIELDS)
@dataclass
class RunConfig:
    """Everything that defines a training run.

    Attributes:
        algorithm: ``"WarmRecurrentPPO"`` (default), or ``"RecurrentPPO"``: stock
            sb3-contrib ``RecurrentPPO("MlpLstmPolicy")`` with its own defaults, for
            baselines; then only ``ppo_kwargs``, ``policy_kwargs`` (e.g.
            ``{"lstm_hidden_size": 64}``) and the run settings apply, not the
            backbone, pre-training or schedule fields.
        env: a gymnasium id (ours, ``envs:warm_rl/...``, or any other).
        env_kwargs: keyword arguments of the env.
        cell: backbone cell.
        hidden_size: backbone width.
        num_layers: backbone depth.
        double: double-layer backbone.
        feature_skip: the heads see the features beside the recurrent output
            (:class:`agents.WarmRecurrentPolicy`).
        pretrain: the pre-training of the backbones before training: ``"warmup+lsc"``
            (default, :data:`agents.defaults.DEFAULT_PRETRAIN`), ``"warmup"``, ``"lsc"`` or None
            (:class:`agents.WarmRecurrentPolicy`'s ``pretrain``).
        warmup_env_steps: env steps collected for the pre-training.
        warmup_kwargs: WarmupConfig fields overriding the default warm-up.
        lsc_kwargs: LSCConfig fields overriding the default LSC pre-training.
        policy_kwargs: further :class:`agents.WarmRecurrentPolicy` arguments
            (``feature_skip``, ``net_arch``, ...), overriding the ones above.
        vaa_horizon: perturbation steps ``M`` of the logged VAA measurements.
        vaa_reg: the VAA* regulariser of ``WarmRecurrentPPO`` (a weight, a dict of
            :class:`warm_rl.VAARegularizer` fields, or None: none).
        prev_action_reward: feed the previous action and reward to the agent
            (:class:`agents.wrappers.PreviousActionReward`).
        horizon_terminal: report episodes cut by the time limit as terminated, so
            that PPO does not bootstrap their value
            (:class:`agents.wrappers.TruncationAsTermination`): right when the
            horizon is part of the task, as on the T-maze. Off by default (SB3's
            bootstrap): on the T-maze L=50 it did not measurably change how often
            exploration collapses (``results/tmaze_exploration_collapse/README.md``).
        timesteps: training env steps.
        n_envs: parallel envs.
        seed: random seed.
        device: ``"auto"``, ``"cpu"`` or ``"cuda"``.
        ppo_kwargs: RecurrentPPO arguments (n_steps, gamma, ent_coef, ...).
        lr_schedule: ``"linear"`` (default, ``agents.defaults.DEFAULT_LR_SCHEDULE``)
            decays the learning rate linearly to 0 over ``timesteps`` (a resumed run
            continues the decay); ``"constant"`` keeps it.
        ent_schedule: the same for the entropy coefficient ``ent_coef`` (default
            ``"constant"``, ``agents.defaults.DEFAULT_ENT_SCHEDULE``: the default
            coefficient is 0, ``agents.defaults.DEFAULT_ENT_COEF``).
        eval_episodes: greedy episodes of the final evaluation.
        eval_every: env steps between two evaluations logged to ``eval/`` (0: none).
        stats_every: env steps between two points of the training-episode curve
            (:class:`TrainingEpisodeStats`; 0: none).
        checkpoint_every: env steps between two checkpoints.
        keep_checkpoints: newest checkpoints kept (older ones are deleted).
        agent_defaults: the version of ``agents.defaults`` the run relies on
            (``AGENT_DEFAULTS_VERSION``; records without it are version 1). Only the
            current version can be trained; it keeps runs made under other defaults apart.
    """

    algorithm: str = "WarmRecurrentPPO"
    env: str = DEFAULT_ENV
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    cell: str = "gru"
    hidden_size: int = 64
    num_layers: int = 1
    double: bool = True
    feature_skip: bool = DEFAULT_FEATURE_SKIP
    pretrain: str | None = DEFAULT_PRETRAIN
    warmup_env_steps: int = DEFAULT_WARMUP_ENV_STEPS
    warmup_kwargs: dict[str, Any] = field(default_factory=dict)
    lsc_kwargs: dict[str, Any] = field(default_factory=dict)
    policy_kwargs: dict[str, Any] = field(default_factory=dict)
    vaa_horizon: int = DEFAULT_VAA_HORIZON
    vaa_reg: float | dict | None = None
    prev_action_reward: bool = False
    horizon_terminal: bool = False
    timesteps: int = 100_000
    n_envs: int = 8
    seed: int = 0
    device: str = "auto"
    ppo_kwargs: dict[str, Any] = field(default_factory=dict)
    lr_schedule: str = DEFAULT_LR_SCHEDULE
    ent_schedule: str = DEFAULT_ENT_SCHEDULE
    eval_episodes: int = 100
    eval_every: int = 10_000
    stats_every: int = 10_000
    checkpoint_every: int = 20_000
    keep_checkpoints: int = 2
    agent_defaults: int = AGENT_DEFAULTS_VERSION

    def __post_init__(self) -> None:
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"unknown algorithm {self.algorithm!r}; expected one of {ALGORITHMS}")
        if self.pretrain not in PRETRAIN_CHOICES or isinstance(self.pretrain, bool):
            raise ValueError(f"unknown pretrain {self.pretrain!r}; expected one of {PRETRAIN_CHOICES}")
        for name in SCHEDULE_FIELDS:
            if getattr(self, name) not in SCHEDULES:
                raise ValueError(f"unknown {name} {getattr(self, name)!r}; expected one of {SCHEDULES}")
        self._check_values()

    def _check_values(self) -> None:
        """Nonsense settings fail here, before any work (each message names the value)."""
        for name in ("timesteps", "n_envs", "checkpoint_every", "keep_checkpoints", "eval_episodes",
                     "vaa_horizon", "warmup_env_steps", "hidden_size", "num_layers", "agent_defaults"):
            check_int(f"RunConfig.{name}", getattr(self, name), minimum=1)
        for name in ("eval_every", "stats_every", "seed"):
            check_int(f"RunConfig.{name}", getattr(self, name), minimum=0)
        for name in ("double", "feature_skip", "prev_action_reward", "horizon_terminal"):
            check_bool(f"RunConfig.{name}", getattr(self, name))
        for name in ("env_kwargs", "warmup_kwargs", "lsc_kwargs", "policy_kwargs", "ppo_kwargs"):
            value = getattr(self, name)
            if not isinstance(value, dict):
                raise TypeError(f"RunConfig.{name} must be a dict, got {type(value).__name__} {value!r}")
        if self.vaa_reg is not None:
            if self.algorithm != "WarmRecurrentPPO":
                raise ValueError("RunConfig.vaa_reg needs algorithm='WarmRecurrentPPO'")
            VAARegularizer.from_value(self.vaa_reg)  # validates
        ppo = self.ppo_kwargs
        for name in ("n_steps", "batch_size", "n_epochs"):
            if name in ppo:
                check_int(f"ppo_kwargs[{name!r}]", ppo[name], minimum=1)
        if "gamma" in ppo:
            check_number("ppo_kwargs['gamma']", ppo["gamma"], minimum=0.0, maximum=1.0, strict_minimum=True)
        if "learning_rate" in ppo:
            check_number("ppo_kwargs['learning_rate']", ppo["learning_rate"], minimum=0.0, strict_minimum=True)
        if str(self.device).startswith("cuda") and not torch.cuda.is_available():
            raise ValueError(f"RunConfig.device={self.device!r} but CUDA is not available; use 'cpu' or 'auto'")
        cell_kwargs = self.policy_kwargs.get("cell_kwargs") or {}
        if self.algorithm == "WarmRecurrentPPO" and self.cell == "chrono" and "t_max" not in cell_kwargs:
            raise ValueError("cell='chrono' needs its T_max: --t-max T (train.py) or "
                             "policy_kwargs={'cell_kwargs': {'t_max': T}}, T about the longest dependency, "
                             "e.g. the episode length")


def _make_env(config: RunConfig, seed: int, n_envs: int):
    kwargs = dict(config.env_kwargs)
    env_id = config.env
    if env_id.startswith("warm_rl/") or env_id.startswith("envs:"):
        kwargs.setdefault("render_mode", None)
    wrappers = []
    if config.prev_action_reward:
        wrappers.append(PreviousActionReward)
    if config.horizon_terminal:
        wrappers.append(TruncationAsTermination)

    def wrap(env):
        for wrapper in wrappers:
            env = wrapper(env)
        return env

    return make_vec_env(env_id, n_envs=n_envs, seed=seed, env_kwargs=kwargs, wrapper_class=wrap if wrappers else None)


@dataclass
class RunResult:
    """Outcome of :func:`train_agent` (``kl_early_stops``: :attr:`WarmRecurrentPPO.kl_early_stops`,
    None without ``target_kl`` or for stock RecurrentPPO)."""

    config: dict
    evaluation: Evaluation
    vaa_before: float | None
    vaa_after: float | None
    warmup_seconds: float | None
    timesteps: int
    seconds: float
    history: list[tuple[int, float | None, float]]
    training_curve: list[tuple[int, float, float | None]] = field(default_factory=list)
    kl_early_stops: int | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


def build_model(
    config: RunConfig, env=None, tensorboard_log: str | None = None, verbose: int = 0
) -> WarmRecurrentPPO | RecurrentPPO:
    """A fresh (not yet warmed-up) agent for ``config`` (stock RecurrentPPO for that ``algorithm``).

    Args:
        config: the run.
        env: the training VecEnv (built from ``config`` if None).
        tensorboard_log: TensorBoard folder.
        verbose: SB3 verbosity.
    """
    if uses_agent_defaults(config.algorithm) and config.agent_defaults != AGENT_DEFAULTS_VERSION:
        raise ValueError(
            f"RunConfig.agent_defaults={config.agent_defaults}: this run relies on warm-rl's agent defaults "
            f"version {config.agent_defaults}, this warm-rl has version {AGENT_DEFAULTS_VERSION} "
            "(agents.defaults.AGENT_DEFAULTS_VERSION); give the old settings explicitly instead")
    if env is None:
        env = _make_env(config, config.seed, config.n_envs)
    if config.algorithm == "RecurrentPPO":
        return RecurrentPPO(
            "MlpLstmPolicy", env, policy_kwargs=dict(config.policy_kwargs) or None, seed=config.seed,
            device=config.device, tensorboard_log=tensorboard_log, verbose=verbose, **config.ppo_kwargs,
        )
    policy_kwargs = {
        "cell": config.cell,
        "hidden_size": config.hidden_size,
        "num_layers": config.num_layers,
        "double": config.double,
        "feature_skip": config.feature_skip,
        "pretrain": config.pretrain,
        "warmup": {**DEFAULT_WARMUP, **config.warmup_kwargs},
        "lsc": dict(config.lsc_kwargs),
        **config.policy_kwargs,
    }
    ppo_kwargs = dict(config.ppo_kwargs)  # the class defaults are the run defaults: pass what was set
    rate = float(ppo_kwargs.get("learning_rate", DEFAULT_PPO_KWARGS["learning_rate"]))
    if config.lr_schedule != DEFAULT_LR_SCHEDULE or "learning_rate" in ppo_kwargs:
        ppo_kwargs["learning_rate"] = LinearSchedule(rate, 0.0, 1.0) if config.lr_schedule == "linear" else rate
    if config.ent_schedule == "linear":
        ppo_kwargs["ent_coef"] = LinearSchedule(float(ppo_kwargs.get("ent_coef", DEFAULT_ENT_COEF)), 0.0, 1.0)
    return WarmRecurrentPPO(
        "MlpWarmPolicy",
        env,
        warmup_env_steps=config.warmup_env_steps,
        vaa_horizon=config.vaa_horizon,
        vaa_reg=config.vaa_reg,
        policy_kwargs=policy_kwargs,
        seed=config.seed,
        device=config.device,
        tensorboard_log=tensorboard_log,
        verbose=verbose,
        **ppo_kwargs,
    )


@dataclass(frozen=True)
class RunPaths:
    """Where a run saved at ``<save>.zip`` keeps its files (all beside the final model).

    Attributes:
        model: the final model, ``<save>.zip``.
        checkpoints: ``<save>_checkpoints/`` (the checkpoints, their resume states, the run's config).
        record: ``<save>_run.json`` (evaluation and training curves, warm-up outcome).
        evaluations: ``<save>_eval/`` (SB3's ``evaluations.npz`` and ``best_model.zip``).
    """

    model: Path
    checkpoints: Path
    record: Path
    evaluations: Path

    @classmethod
    def of(cls, save: str | Path) -> RunPaths:
        path = Path(save)
        stem = path.with_suffix("") if path.suffix == ".zip" else path
        return cls(
            model=path, checkpoints=stem.with_name(stem.name + "_checkpoints"),
            record=stem.with_name(stem.name + "_run.json"), evaluations=stem.with_name(stem.name + "_eval"),
        )

    def existing(self) -> list[Path]:
        """The files and folders of the run that exist."""
        return [path for path in (self.model, self.checkpoints, self.record, self.evaluations) if path.exists()]


def _model_to_train(
    config: RunConfig, checkpoint: Path | None, tensorboard_log: str | None, verbose: int,
    say: Callable[[str], None] | None,
) -> tuple[WarmRecurrentPPO | RecurrentPPO, VecEnv, ResumeState | None]:
    """The model of the latest checkpoint (resume), else a fresh one; the run's evaluation env; the resume state.

    A resumed model gets its envs and random states back (:mod:`agents.checkpoints`),
    so that it continues exactly; :func:`agents.checkpoints.restore_model_state` must
    then be the last thing before ``learn``.
    """
    state = load_resume_state(checkpoint) if checkpoint is not None else None
    env = state.env if state is not None and state.env is not None else _make_env(config, config.seed, config.n_envs)
    eval_env = state.eval_env if state is not None and state.eval_env is not None else evaluation_env(config)
    if checkpoint is None:
        return build_model(config, env, tensorboard_log=tensorboard_log, verbose=verbose), eval_env, None
    algorithm = RecurrentPPO if config.algorithm == "RecurrentPPO" else WarmRecurrentPPO
    exact = state is not None and state.env is not None
    # force_reset: SB3 drops the saved last observation and resets the envs when learning
    # starts; the restored envs go on with their episodes instead.
    model = algorithm.load(checkpoint, env=env, device=config.device, tensorboard_log=tensorboard_log,
                           force_reset=not exact)
    if say is not None:
        how = "exactly" if exact else "with fresh episodes"
        say(f"resuming from {checkpoint} at {model.num_timesteps} steps ({how})")
    return model, eval_env, state


def evaluation_env(config: RunConfig) -> VecEnv:
    """The VecEnv a run evaluates on: its env and wrappers, seeded apart from training (seed + 10,000)."""
    return _make_env(config, config.seed + 10_000, min(config.n_envs, 8))


@dataclass
class _RunCallbacks:
    """The callbacks of one run, and the two whose curves end up in its result."""

    callbacks: list[BaseCallback]
    periodic: PeriodicEvaluation | None
    stats: TrainingEpisodeStats | None


def _run_callbacks(config: RunConfig, eval_env, paths: RunPaths | None, record: RunRecord | None) -> _RunCallbacks:
    """NaN guard, checkpoints, warm-up record, periodic evaluation and training-episode curve."""
    callbacks: list[BaseCallback] = [NanGuard()]
    if paths is not None:
        callbacks.append(KeepLastCheckpoints(config.checkpoint_every, str(paths.checkpoints),
                                             keep=config.keep_checkpoints, eval_env=eval_env))
    if record is not None:
        callbacks.append(RecordWarmup(record))
    periodic = None
    if config.eval_every:
        periodic = PeriodicEvaluation(
            eval_env, config.eval_every, min(config.eval_episodes, 50), record,
            log_path=None if paths is None else paths.evaluations,
            best_model_save_path=None if paths is None else paths.evaluations,
        )
        callbacks.append(periodic)
    stats = TrainingEpisodeStats(config.stats_every, record) if config.stats_every else None
    if stats is not None:
        callbacks.append(stats)
    return _RunCallbacks(callbacks, periodic, stats)


RESUME_FREE_FIELDS: tuple[str, ...] = (
    "timesteps", "eval_episodes", "eval_every", "stats_every", "checkpoint_every", "keep_checkpoints", "device",
)
"""RunConfig fields a resumed run may change (a longer budget, bookkeeping); every other must match."""

RUN_CONFIG_FILE = "run_config.json"
"""The run's configuration, stored in its checkpoint folder when it starts."""


LEGACY_WARMUP_VALUES: dict[bool, str | None] = {True: "warmup", False: None}
"""The bool ``warmup`` field of old records -> the ``pretrain`` value it meant."""


LEGACY_AGENT_DEFAULTS: int = 1
"""``agent_defaults`` of configs recorded before the field existed."""


WARM_RL_ONLY_FIELDS: tuple[str, ...] = (
    "cell", "hidden_size", "num_layers", "double", "feature_skip", "pretrain", "warmup_kwargs", "lsc_kwargs",
    "lr_schedule", "ent_schedule", "warmup_env_steps", "vaa_horizon", "vaa_reg", "agent_defaults",
)
"""RunConfig fields that only WarmRecurrentPPO runs read: :func:`build_model` gives stock
RecurrentPPO none of them (its network and PPO settings come from ``policy_kwargs`` and
``ppo_kwargs``), so they are left out of a stock run's key (``agents.benchmark.run_key``)."""


def uses_agent_defaults(algorithm: str) -> bool:
    """Whether runs of ``algorithm`` rely on :mod:`agents.defaults` (``agent_defaults`` matters):
    WarmRecurrentPPO's do, stock RecurrentPPO's do not."""
    return algorithm == "WarmRecurrentPPO"


def upgrade_config(config: dict) -> dict:
    """A recorded RunConfig dict with the renamed fields under their new names.

    Args:
        config: a config dict, with old names (``n_layers``, ``vaa_steps``,
            ``warmup``), new names or both (a new name present wins over the old one).

    Returns:
        A new dict, in the same field order, old names replaced by new ones
        (``warmup: true/false`` becomes ``pretrain: "warmup"/null``), and
        ``agent_defaults`` 1 added where it is missing (last).
    """
    upgraded = {}
    if "agent_defaults" not in config:
        config = {**config, "agent_defaults": LEGACY_AGENT_DEFAULTS}  # recorded before the field existed
    for key, value in config.items():
        new = RENAMED_FIELDS.get(key)
        if new is None:
            upgraded[key] = value
        elif new not in config:
            upgraded[new] = LEGACY_WARMUP_VALUES[bool(value)] if key == "warmup" else value
    return upgraded


def _mismatched_fields(stored: dict, config: RunConfig) -> list[str]:
    """``"field: stored -> given"`` for every field of ``config`` that differs from the stored run's."""
    stored = upgrade_config(stored)  # a run stored before a rename
    given = asdict(config)
    free = RESUME_FREE_FIELDS + (() if uses_agent_defaults(config.algorithm) else WARM_RL_ONLY_FIELDS)
    return [
        f"{name}: {stored.get(name)!r} (run) vs {value!r} (given)"
        for name, value in given.items()
        if name not in free and name in stored and stored[name] != value
    ]


def move_run_aside(save: str | Path) -> Path | None:
    """Moves a run's final model, checkpoints and record into ``<stem>_old_<time>/`` (never deletes).

    Returns:
        The folder they went to, or None when there was nothing to move.
    """
    paths = RunPaths.of(save).existing()
    if not paths:
        return None
    save = Path(save)
    aside = save.with_name(f"{save.stem}_old_{time.strftime('%Y%m%d-%H%M%S')}")
    aside.mkdir(parents=True)
    for path in paths:
        path.rename(aside / path.name)
    return aside


def _checkpoint_to_resume(config: RunConfig, checkpoint_dir: Path | None, resume: bool) -> Path | None:
    """The checkpoint a run continues from, after checking that it is the same run.

    Raises:
        ValueError: checkpoints of an earlier run exist and ``resume`` is off; the stored
            configuration differs from ``config`` (the differing fields are listed); or
            the run is already longer than ``config.timesteps``.
    """
    if checkpoint_dir is None or not checkpoint_dir.is_dir() or not any(checkpoint_dir.glob("*_steps.zip")):
        return None
    where = checkpoint_dir.parent / checkpoint_dir.name.removesuffix("_checkpoints")
    if not resume:
        raise ValueError(f"{checkpoint_dir} holds checkpoints of an earlier run: --resume continues it, "
                         f"--force-new starts over (moving {where}* aside)")
    stored = checkpoint_dir / RUN_CONFIG_FILE
    if stored.is_file():
        different = _mismatched_fields(json.loads(stored.read_text()), config)
        if different:
            raise ValueError(f"--resume: the run in {checkpoint_dir} was made with other settings: "
                             + "; ".join(different) + ". Use the run's settings, or --force-new to start over")
    checkpoint = latest_checkpoint(checkpoint_dir, config.timesteps)
    if checkpoint is None:
        raise ValueError(f"--resume: every checkpoint in {checkpoint_dir} is beyond timesteps={config.timesteps} "
                         "(or unreadable); give a budget at least that long, or --force-new")
    return checkpoint


def train_agent(
    config: RunConfig,
    save: str | Path | None = None,
    resume: bool = False,
    force_new: bool = False,
    tensorboard_log: str | None = None,
    progress_bar: bool = False,
    verbose: int = 0,
    say: Callable[[str], None] | None = None,
) -> RunResult:
    """Trains, checkpoints, evaluates.

    Args:
        config: the run.
        save: final model path (``.zip``); checkpoints go to ``<save>_checkpoints/``.
        resume: continue from the latest checkpoint in that folder, if any (it must be
            the same run: the stored configuration is compared, see
            :data:`RESUME_FREE_FIELDS`). A finished run is evaluated and left unchanged.
        force_new: start over even if the run exists, moving its files aside
            (:func:`move_run_aside`).
        say: where messages about the run go (moved aside, starting fresh, already
            finished); e.g. ``print``. None: silent.
        tensorboard_log: TensorBoard folder.
        progress_bar: show SB3's progress bar.
        verbose: SB3 verbosity.

    Returns:
        A :class:`RunResult`.

    Raises:
        ValueError: see :func:`_checkpoint_to_resume` (nothing is changed then).
    """
    start = time.perf_counter()
    paths = None if save is None else RunPaths.of(save)
    if force_new and paths is not None:
        aside = move_run_aside(paths.model)
        if aside is not None and say is not None:
            say(f"--force-new: the earlier run was moved to {aside}")
    checkpoint = _checkpoint_to_resume(config, None if paths is None else paths.checkpoints, resume)
    if resume and checkpoint is None and say is not None and paths is not None:
        say(f"--resume: no checkpoint in {paths.checkpoints}, starting fresh")
    model, eval_env, state = _model_to_train(config, checkpoint, tensorboard_log, verbose, say if resume else None)
    if checkpoint is None and paths is not None:
        paths.checkpoints.mkdir(parents=True, exist_ok=True)
        (paths.checkpoints / RUN_CONFIG_FILE).write_text(json.dumps(asdict(config), indent=2))
    record = None
    if paths is not None:
        record = RunRecord.load_or_new(paths.record, model.num_timesteps if checkpoint is not None else None)
    run = _run_callbacks(config, eval_env, paths, record)
    remaining = config.timesteps - model.num_timesteps
    if remaining > 0:
        if state is not None:
            restore_model_state(model, state)  # last before learn: load re-seeded every generator
        model.learn(
            remaining,
            callback=CallbackList(run.callbacks),
            reset_num_timesteps=checkpoint is None,
            progress_bar=progress_bar,
        )
        if paths is not None:
            save_model(model, paths.model)
    elif say is not None:
        say(f"--resume: the run is finished ({model.num_timesteps} steps); evaluating it, changing nothing")
    evaluation = evaluate(model, eval_env, config.eval_episodes)
    result = getattr(model, "warmup_result", None)  # stock RecurrentPPO has none
    warm = warmup_summary(result) if result else (record.warmup if record else {})
    return RunResult(
        config=asdict(config),
        evaluation=evaluation,
        vaa_before=warm.get("vaa_before"),
        vaa_after=warm.get("vaa_after"),
        warmup_seconds=warm.get("seconds"),
        timesteps=int(model.num_timesteps),
        seconds=time.perf_counter() - start,
        history=list(run.periodic.history) if run.periodic is not None else [],
        training_curve=list(run.stats.curve) if run.stats is not None else [],
        kl_early_stops=getattr(model, "kl_early_stops", None) if model.target_kl is not None else None,
    )
