"""What keeps a training run safe and observable: checkpoints, a NaN guard, evaluation
curves, training-episode statistics, and the record that lets a killed run resume.

Used by :func:`agents.training.train_agent`; each callback also works on its own
with any SB3 algorithm.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch as th
from stable_baselines3.common.callbacks import BaseCallback, EvalCallback

from warm_rl.validation import check_int


def first_non_finite(module: th.nn.Module) -> str | None:
    """The name of the first parameter of ``module`` holding a NaN or an infinity (None: all finite)."""
    named = list(module.named_parameters())
    if not named:
        return None
    finite = th.stack([param.detach().isfinite().all() for _, param in named])
    if bool(finite.all()):
        return None
    return named[int((~finite).nonzero()[0, 0])][0]


class NanGuard(BaseCallback):
    """Stops training with a clear error at the first optimiser step that makes a parameter non-finite.

    A post-step hook on ``model.policy.optimizer`` checks every parameter after every
    step (one device synchronisation per step) and raises a ``FloatingPointError``
    naming the parameter, the optimiser step and the env step; nothing after it is
    saved, so the newest checkpoint keeps the latest finite weights. The weights are
    also checked at every rollout end.
    """

    def __init__(self, verbose: int = 0) -> None:
        super().__init__(verbose)
        self._handle = None
        self.steps = 0

    def _on_training_start(self) -> None:
        self._handle = self.model.policy.optimizer.register_step_post_hook(self._after_step)

    def _after_step(self, optimizer, args, kwargs) -> None:
        self.steps += 1
        bad = first_non_finite(self.model.policy)
        if bad is not None:
            raise FloatingPointError(
                f"parameter {bad!r} became non-finite at optimiser step {self.steps} of this learn() call "
                f"(the update after env step {self.model.num_timesteps}); lower the learning rate. "
                "The newest checkpoint holds the latest finite weights"
            )

    def _on_training_end(self) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None

    def _on_rollout_end(self) -> None:
        bad = first_non_finite(self.model.policy)
        if bad is not None:
            raise FloatingPointError(
                f"parameter {bad!r} became non-finite at step {self.model.num_timesteps}; "
                "the newest checkpoint holds the latest finite weights"
            )

    def _on_step(self) -> bool:
        return True


class PeriodicEvaluation(EvalCallback):
    """SB3's ``EvalCallback`` every ``every`` env steps, resumable, with its curve in a :class:`RunRecord`.

    Logs what SB3 users grep for (``eval/mean_reward``, ``eval/mean_ep_length``,
    ``eval/success_rate``), writes ``<log_path>/evaluations.npz`` and saves
    ``<best_model_save_path>/best_model.zip`` as ``EvalCallback`` does. What it adds
    for a run that is killed and resumed:

    * the cadence is counted in env steps from the start of the run (not in calls
      since the resume), so a resumed run evaluates at the same steps;
    * the curve is kept in :attr:`history` as ``(timesteps, success_rate,
      mean_reward)`` and written to ``record`` after every evaluation;
    * on a resume, the points of ``evaluations.npz`` up to the resumed step (the last
      point of ``record``) are kept, later ones dropped, and the best mean reward is
      restored from them.

    Args:
        eval_env: the evaluation VecEnv.
        every: env steps between two evaluations.
        episodes: greedy episodes per evaluation.
        record: the run's record (its history is the curve so far), or None.
        log_path: folder of ``evaluations.npz`` (None: not written).
        best_model_save_path: folder of ``best_model.zip`` (None: not saved).
        verbose: SB3 verbosity (1: a line per evaluation).
    """

    def __init__(
        self,
        eval_env,
        every: int,
        episodes: int,
        record: RunRecord | None = None,
        log_path: str | Path | None = None,
        best_model_save_path: str | Path | None = None,
        verbose: int = 0,
    ) -> None:
        check_int("PeriodicEvaluation.every", every, minimum=1)
        check_int("PeriodicEvaluation.episodes", episodes, minimum=1)
        super().__init__(
            eval_env, n_eval_episodes=episodes, eval_freq=1, deterministic=True, warn=False, verbose=verbose,
            log_path=None if log_path is None else str(log_path),
            best_model_save_path=None if best_model_save_path is None else str(best_model_save_path),
        )
        self.every, self.record = every, record
        self.history: list[tuple[int, float | None, float]] = record.history if record is not None else []
        self._next = (self.history[-1][0] if self.history else 0) + every

    def _init_callback(self) -> None:
        super()._init_callback()
        if self.history:
            self._restore_log(self.history[-1][0])

    def _restore_log(self, upto: int) -> None:
        """Keeps the ``evaluations.npz`` points at or before step ``upto`` (a resumed run)."""
        path = None if self.log_path is None else Path(self.log_path + ".npz")
        if path is None or not path.is_file():
            return
        with np.load(path) as saved:
            keep = saved["timesteps"] <= upto
            self.evaluations_timesteps = saved["timesteps"][keep].tolist()
            self.evaluations_results = saved["results"][keep].tolist()
            self.evaluations_length = saved["ep_lengths"][keep].tolist()
            if "successes" in saved.files:
                self.evaluations_successes = saved["successes"][keep].tolist()
        if self.evaluations_results:
            self.best_mean_reward = float(np.max(np.mean(self.evaluations_results, axis=1)))

    def _on_step(self) -> bool:
        if self.num_timesteps < self._next:
            return True
        while self._next <= self.num_timesteps:
            self._next += self.every
        keep_going = super()._on_step()  # eval_freq=1: EvalCallback evaluates now
        success = float(np.mean(self._is_success_buffer)) if self._is_success_buffer else None
        self.history.append((self.num_timesteps, success, float(self.last_mean_reward)))
        if self.record is not None:
            self.record.write()
        return keep_going


class TrainingEpisodeStats(BaseCallback):
    """Statistics of the training episodes (the stochastic policy), every ``every`` env steps.

    Logs ``rollout/terminated_fraction`` (episodes that ended by termination
    rather than by the time limit, also when
    :class:`agents.wrappers.TruncationAsTermination` reports the limit as
    terminal: on the T-maze, those that reached the junction) and keeps
    :attr:`curve` as ``(timesteps, terminated_fraction, success_rate)`` (success
    None when the env reports no ``is_success``). It shows exploration succeed or
    collapse long before the greedy policy solves the task.
    """

    def __init__(self, every: int, record: RunRecord | None = None) -> None:
        super().__init__()
        self.every, self.record = every, record
        self.curve: list[tuple[int, float, float | None]] = record.training_curve if record is not None else []
        self._next = (self.curve[-1][0] if self.curve else 0) + every
        self._episodes = self._terminated = self._successes = self._reported = 0

    def _on_step(self) -> bool:
        infos = self.locals["infos"]
        for index in np.flatnonzero(self.locals["dones"]):
            info = infos[index]
            self._episodes += 1
            cut = info.get("TimeLimit.truncated", False) or info.get("horizon_reached", False)
            self._terminated += not cut
            if "is_success" in info:
                self._reported += 1
                self._successes += bool(info["is_success"])
        if self.num_timesteps >= self._next:
            self._next += self.every
            if self._episodes:
                fraction = self._terminated / self._episodes
                success = self._successes / self._reported if self._reported else None
                self.curve.append((self.num_timesteps, fraction, success))
                self.logger.record("rollout/terminated_fraction", fraction)
                if self.record is not None:
                    self.record.write()
            self._episodes = self._terminated = self._successes = self._reported = 0
        return True


class RecordWarmup(BaseCallback):
    """Writes the warm-up outcome into a :class:`RunRecord` once warm-up is done."""

    def __init__(self, record: RunRecord) -> None:
        super().__init__()
        self.record = record

    def _on_training_start(self) -> None:
        result = getattr(self.model, "warmup_result", None)
        if result:
            self.record.warmup = warmup_summary(result)
            self.record.write()

    def _on_step(self) -> bool:
        return True


@dataclass
class RunRecord:
    """What a run must not forget across a kill: its evaluation curve and warm-up outcome.

    Stored as JSON beside the checkpoints (``<save>_run.json``).
    """

    path: Path
    history: list[tuple[int, float | None, float]] = field(default_factory=list)
    training_curve: list[tuple[int, float, float | None]] = field(default_factory=list)
    warmup: dict[str, float | None] = field(default_factory=dict)

    @classmethod
    def load_or_new(cls, path: Path, resume_at: int | None) -> RunRecord:
        """The record at ``path`` as it was at step ``resume_at`` (points after it are
        replayed by the resumed run), or a new one when ``resume_at`` is None or
        nothing was recorded."""
        if resume_at is None or not path.exists():
            return cls(path)
        data = json.loads(path.read_text())

        def upto(points: list) -> list[tuple]:
            return [tuple(point) for point in points if point[0] <= resume_at]

        return cls(path, upto(data["history"]), upto(data.get("training_curve", [])), data["warmup"])

    def write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        data = {"history": self.history, "training_curve": self.training_curve, "warmup": self.warmup}
        temporary.write_text(json.dumps(data))
        temporary.replace(self.path)


def warmup_summary(result: dict) -> dict[str, float | None]:
    """VAA before/after and pre-training wall time (warm-up and LSC, not the env steps) of a
    ``WarmRecurrentPPO.warmup_result``."""
    reports = [r for r in result.values() if hasattr(r, "seconds")]
    reports += [r for r in result.get("lsc", {}).values() if hasattr(r, "seconds")]
    seconds = [r.seconds for r in reports]
    return {
        "vaa_before": result.get("vaa_before"),
        "vaa_after": result.get("vaa_after"),
        "seconds": float(np.sum(seconds)) if seconds else None,
    }
