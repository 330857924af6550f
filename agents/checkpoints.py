"""Checkpoints that resume exactly: atomic model files, the run's random and env state beside them.

A checkpoint is taken at a rollout boundary (after an update, before the next
rollout) and is two files in the run's checkpoint folder:

* ``model_<steps>_steps.zip``: the SB3 model (weights, optimiser state, the last
  observation and episode starts), written atomically by :func:`save_model`;
* ``model_<steps>_steps.resume.pkl``: what SB3's zip leaves out and an exact
  continuation needs (:class:`ResumeState`): the torch / numpy / python random
  states, the recurrent states of the last observation, and the training and
  evaluation VecEnvs themselves (their episodes in progress and ``np_random``).

A run resumed from both continues bit-identically to one that was never stopped.
When the envs cannot be pickled (e.g. a ``SubprocVecEnv``) the state is saved
without them and the resumed run starts fresh episodes at the rollout boundary
(:func:`load_resume_state` says so); the same happens for checkpoints that have no
``.resume.pkl`` (written by older versions).
"""

from __future__ import annotations

import os
import random
import re
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cloudpickle
import numpy as np
import torch as th
from stable_baselines3.common.callbacks import CheckpointCallback
from stable_baselines3.common.vec_env import VecEnv

from agents.run_tracking import first_non_finite
from warm_rl.validation import check_int

RESUME_SUFFIX = ".resume.pkl"
"""Suffix of the resume state beside a checkpoint's ``.zip``."""


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


def resume_state_path(checkpoint: str | Path) -> Path:
    """The resume-state file beside a checkpoint ``model_<n>_steps.zip``."""
    checkpoint = Path(checkpoint)
    return checkpoint.with_name(checkpoint.name.removesuffix(".zip") + RESUME_SUFFIX)


@dataclass
class ResumeState:
    """What an exact continuation needs beyond SB3's zip.

    Attributes:
        rng: the random states (:func:`capture_rng`).
        lstm_states: the model's ``_last_lstm_states`` (recurrent states of its last
            observation; SB3 does not save them), or None.
        env: the training VecEnv as it was, or None when it could not be pickled.
        eval_env: the evaluation VecEnv as it was, or None.
    """

    rng: dict[str, Any]
    lstm_states: Any = None
    env: VecEnv | None = None
    eval_env: VecEnv | None = None


def capture_rng() -> dict[str, Any]:
    """The global random states: torch (CPU and every CUDA device), numpy, python."""
    state = {"torch": th.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if th.cuda.is_available():
        state["cuda"] = th.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    """Sets the global random states captured by :func:`capture_rng`."""
    th.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and th.cuda.is_available():
        th.cuda.set_rng_state_all(state["cuda"])


def _picklable(env: VecEnv | None) -> bytes | None:
    """``env`` pickled, or None when it cannot be (subprocesses, open handles, ...)."""
    if env is None:
        return None
    try:
        return cloudpickle.dumps(env)
    except Exception:  # noqa: BLE001 - any env that does not pickle is resumed with fresh episodes
        return None


def save_resume_state(path: str | Path, model, eval_env: VecEnv | None = None) -> bool:
    """Writes the :class:`ResumeState` of ``model`` (and ``eval_env``) atomically to ``path``.

    Args:
        path: the ``.resume.pkl`` file (:func:`resume_state_path`).
        model: the SB3 model being trained (its ``get_env()`` is the training env).
        eval_env: the evaluation env of the run, or None.

    Returns:
        True when the envs were saved too (an exact resume), False when they could not
        be pickled (the resumed run will start fresh episodes).
    """
    env_bytes, eval_bytes = _picklable(model.get_env()), _picklable(eval_env)
    state = {
        "rng": capture_rng(),
        "lstm_states": getattr(model, "_last_lstm_states", None),
        "env": env_bytes,
        "eval_env": eval_bytes,
    }
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(cloudpickle.dumps(state))
    os.replace(partial, path)
    return env_bytes is not None and (eval_env is None or eval_bytes is not None)


def load_resume_state(checkpoint: str | Path) -> ResumeState | None:
    """The resume state saved beside ``checkpoint``, or None (with a warning) when there is none.

    The envs are None where they could not be saved; the caller then builds fresh
    ones (a warning says that the resume is not exact).
    """
    path = resume_state_path(checkpoint)
    if not path.is_file():
        warnings.warn(f"{path} is missing: resuming {checkpoint} with fresh random states and episodes "
                      "(not bit-identical to an uninterrupted run)", stacklevel=2)
        return None
    data = cloudpickle.loads(path.read_bytes())
    state = ResumeState(
        rng=data["rng"],
        lstm_states=data["lstm_states"],
        env=None if data["env"] is None else cloudpickle.loads(data["env"]),
        eval_env=None if data["eval_env"] is None else cloudpickle.loads(data["eval_env"]),
    )
    if state.env is None:
        warnings.warn(f"the envs of {checkpoint} could not be saved: the resumed run starts fresh episodes at "
                      "this rollout boundary (random states restored, episodes not)", stacklevel=2)
    return state


def restore_model_state(model, state: ResumeState) -> None:
    """Puts a loaded model back where it was: recurrent states and random states (call last, just before learn).

    ``load`` re-seeds every generator with the model's seed and zeroes the recurrent
    states; this undoes both.
    """
    if state.lstm_states is not None and state.env is not None:  # the states belong to the saved episodes
        model._last_lstm_states = state.lstm_states
    restore_rng(state.rng)


class KeepLastCheckpoints(CheckpointCallback):
    """Checkpoints every ``every`` env steps at rollout boundaries, keeping the ``keep`` newest.

    SB3's CheckpointCallback, but the checkpoint is taken when a rollout starts (the
    update before it done), so a resumed run replays exactly the same rollouts; the
    model is written atomically (:func:`save_model`) with its :class:`ResumeState`.

    Args:
        every: env steps between checkpoints (rounded up to a rollout boundary).
        save_path: the checkpoint folder.
        keep: newest checkpoints kept (older ones and their resume states are deleted).
        eval_env: the run's evaluation env, saved in the resume state.
    """

    def __init__(self, every: int, save_path: str, keep: int = 2, eval_env: VecEnv | None = None) -> None:
        check_int("KeepLastCheckpoints.every", every, minimum=1)
        check_int("KeepLastCheckpoints.keep", keep, minimum=1)
        super().__init__(every, save_path, name_prefix="model")
        self.every, self.keep, self.eval_env = every, keep, eval_env
        self._next: int | None = None
        self._saved_at = 0
        self.exact = True

    def _on_training_start(self) -> None:
        self._saved_at = self.num_timesteps
        self._next = (self.num_timesteps // self.every + 1) * self.every

    def _on_rollout_start(self) -> None:
        if self._next is not None and self.num_timesteps >= self._next:
            while self._next <= self.num_timesteps:
                self._next += self.every
            self._save()

    def _on_training_end(self) -> None:
        """The end of ``learn`` is a rollout boundary too: the finished run's checkpoint."""
        if self.num_timesteps > self._saved_at:
            self._save()

    def _save(self) -> None:
        path = Path(self._checkpoint_path(extension="zip"))
        if first_non_finite(self.model.policy) is None:  # else save_model raises, writing nothing
            # the state first: a kill between the two files leaves no zip without its state
            self.exact = save_resume_state(resume_state_path(path), self.model, self.eval_env) and self.exact
        save_model(self.model, path)
        self._saved_at = self.num_timesteps
        if self.verbose >= 2:
            print(f"Saving model checkpoint to {path}")
        for _, old in sorted(_numbered_checkpoints(Path(self.save_path)))[: -self.keep]:
            old.unlink(missing_ok=True)
            resume_state_path(old).unlink(missing_ok=True)

    def _on_step(self) -> bool:
        return True


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
