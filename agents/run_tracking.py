"""What keeps a training run safe and observable: checkpoints, a NaN guard, evaluation
curves, training-episode statistics, and the record that lets a killed run resume.

Used by :func:`agents.training.train_agent`; each callback also works on its own
with any SB3 algorithm.
"""

from __future__ import annotations

import json
import os
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch as th
from stable_baselines3.common.callbacks import BaseCallback, CheckpointCallback

from agents.evaluation import evaluate


def first_non_finite(module: th.nn.Module) -> str | None:
    """The name of the first parameter of ``module`` holding a NaN or an infinity (None: all finite)."""
    named = list(module.named_parameters())
    if not named:
        return None
    finite = th.stack([param.detach().isfinite().all() for _, param in named])
    if bool(finite.all()):
        return None
    return named[int((~finite).nonzero()[0, 0])][0]


def save_model(model, path: str | Path) -> Path:
    """Saves an SB3 model atomically, and never with non-finite weights.

    Written to ``<path>.partial`` and then renamed over ``path``: a kill mid-write
    leaves the previous file intact.

    Raises:
        FloatingPointError: a policy parameter is non-finite (nothing is written).
    """
    path = Path(path)
    bad = first_non_finite(model.policy)
    if bad is not None:
        raise FloatingPointError(f"not saving {path}: parameter {bad!r} is non-finite")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    model.save(partial)
    os.replace(partial, path)
    return path


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


class PeriodicEvaluation(BaseCallback):
    """Logs greedy ``eval/success_rate`` and ``eval/mean_return`` every ``every`` steps.

    The history is kept in :attr:`history` as ``(timesteps, success_rate, mean_return)``
    and, when ``record`` is given, written to that :class:`RunRecord` after every
    evaluation so that a resumed run keeps the curve of the killed one.
    """

    def __init__(self, eval_env, every: int, episodes: int, record: RunRecord | None = None) -> None:
        super().__init__()
        self.eval_env, self.every, self.episodes, self.record = eval_env, every, episodes, record
        self.history: list[tuple[int, float | None, float]] = record.history if record is not None else []
        self._next = (self.history[-1][0] if self.history else 0) + every

    def _on_step(self) -> bool:
        if self.num_timesteps >= self._next:
            self._next += self.every
            result = evaluate(self.model, self.eval_env, self.episodes)
            self.history.append((self.num_timesteps, result.success_rate, result.mean_return))
            self.logger.record("eval/mean_return", result.mean_return)
            if result.success_rate is not None:
                self.logger.record("eval/success_rate", result.success_rate)
            if self.record is not None:
                self.record.write()
        return True


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


class KeepLastCheckpoints(CheckpointCallback):
    """SB3's CheckpointCallback, atomic (:func:`save_model`), keeping only the ``keep`` newest checkpoints."""

    def __init__(self, save_freq: int, save_path: str, keep: int = 2) -> None:
        super().__init__(save_freq, save_path, name_prefix="model")
        self.keep = keep

    def _on_step(self) -> bool:
        if self.n_calls % self.save_freq == 0:
            path = save_model(self.model, self._checkpoint_path(extension="zip"))
            if self.verbose >= 2:
                print(f"Saving model checkpoint to {path}")
            found = sorted(_numbered_checkpoints(Path(self.save_path)))
            for _, old in found[: -self.keep]:
                old.unlink(missing_ok=True)
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


def _numbered_checkpoints(directory: Path) -> list[tuple[int, Path]]:
    found = []
    for path in directory.glob("*_steps.zip"):
        match = re.search(r"_(\d+)_steps\.zip$", path.name)
        if match:
            found.append((int(match.group(1)), path))
    return found


def _unreadable(path: Path) -> str | None:
    """Why an SB3 zip cannot be loaded (None: it looks whole)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            broken = archive.testzip()
    except (zipfile.BadZipFile, OSError) as error:
        return f"{type(error).__name__}: {error}"
    if "data" not in names or "policy.pth" not in names:
        return f"missing {sorted({'data', 'policy.pth'} - names)}"
    return None if broken is None else f"corrupt member {broken}"


def latest_checkpoint(directory: Path, max_steps: int | None = None) -> Path | None:
    """The readable checkpoint with the most steps in ``directory`` (``*_<steps>_steps.zip``).

    An unreadable newer checkpoint (truncated by a kill while it was written by an
    older version, a full disk, ...) is skipped with a warning.

    Args:
        directory: the checkpoint folder.
        max_steps: ignore checkpoints beyond this many steps (a shorter rerun of
            a run must not start from its future).
    """
    found = [item for item in _numbered_checkpoints(directory) if max_steps is None or item[0] <= max_steps]
    for _, path in sorted(found, reverse=True):
        reason = _unreadable(path)
        if reason is None:
            return path
        warnings.warn(f"skipping unreadable checkpoint {path} ({reason}); trying the previous one", stacklevel=2)
    return None


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
