"""Training several runs of one shape as one batched model (:class:`~warm_rl.suite.batched.BatchedModels`).

:func:`train_batched` is :func:`~warm_rl.suite.trainer.train` for ``K`` runs at
once: each member is built, pre-trained (or resumed from its checkpoint) and
evaluated exactly as a separate run would be, then the members train in
lockstep - one batch of every member per step, one forward and backward pass of
the batched model, one Adam step per member on the member's own loss - and each
gets its own epoch records, checkpoint and :class:`~warm_rl.suite.trainer.TrainResult`.
A member's results equal those of its separate run up to floating-point rounding
(in float64 to 1e-9 and closer: ``tests/test_batched_training.py``), and a member's
checkpoint resumes as a separate run, and the other way round.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import torch

from warm_rl.suite.batched import BatchedModels
from warm_rl.suite.data import SequenceDataset
from warm_rl.suite.trainer import (
    Run,
    TrainConfig,
    TrainResult,
    _check_finite,
    _progress_bar,
    batch_scores,
    end_epoch,
    finish_run,
    masked_loss,
    start_run,
)

SHARED_FIELDS: tuple[str, ...] = ("cell", "hidden_size", "num_layers", "epochs", "batch_size", "device",
                                  "sync_every", "cell_kwargs")
"""Config fields every member of a batched run must share (seed, pre-training, init,
learning rate, warm-up / LSC settings, VAA and checkpoint settings may differ)."""

Sets = tuple[SequenceDataset, SequenceDataset, SequenceDataset]


def train_batched(configs: Sequence[TrainConfig], datasets: Sequence[Sets]) -> list[TrainResult]:
    """Trains the runs ``configs`` (each on its own ``(train, val, test)`` sets) as one batched model.

    Args:
        configs: one config per member; they must agree on :data:`SHARED_FIELDS`
            (the cells ``"lstm"`` and ``"chrono"`` count as different) and have no
            ``vaa_reg`` (the regulariser acts on one network; train such runs with
            :func:`~warm_rl.suite.trainer.train`).
        datasets: member ``k``'s training, validation and test sets; the training
            sets must have the same size, length, input size and output steps.

    Returns:
        One :class:`~warm_rl.suite.trainer.TrainResult` per member, in order. Each
        epoch record's ``seconds`` is the joint epoch's training time of all the
        members trained in it; ``TrainResult.seconds`` the wall time from the member's
        set-up to the end of the call.

    Raises:
        TypeError: a config that is not a :class:`~warm_rl.suite.trainer.TrainConfig`.
        ValueError: no members, different numbers of configs and data sets, members
            that disagree on a shared field or on the training sets' shape, or a
            ``vaa_reg``; and what :func:`~warm_rl.suite.trainer.train` raises.
        RuntimeError: a non-finite training loss (naming the member, epoch and batch).
    """
    _check_members(configs, datasets)
    runs = [start_run(config, *sets) for config, sets in zip(configs, datasets, strict=True)]
    epochs = configs[0].epochs
    for epoch in range(min(run.state.epoch for run in runs) + 1, epochs + 1):
        active = [run for run in runs if run.state.epoch < epoch]  # members resumed further along wait
        epoch_start = time.perf_counter()
        losses = train_batched_epoch(active, epoch)
        seconds = time.perf_counter() - epoch_start
        measured = evaluate_members(active)
        for run, loss, metrics in zip(active, losses, measured, strict=True):
            end_epoch(run, epoch, loss, seconds, metrics)
    return [finish_run(run) for run in runs]


@torch.no_grad()
def evaluate_members(runs: Sequence[Run]) -> list[dict[str, tuple[float, float]]]:
    """Every member's validation (and, with ``test_every_epoch``, test) loss and metric, in batched passes.

    The numbers of :func:`~warm_rl.suite.trainer.evaluate` (up to rounding); sets of
    different sizes or shapes across members are evaluated member by member.

    Returns:
        Per member ``{"val": (loss, metric)[, "test": (loss, metric)]}``.
    """
    model = BatchedModels([run.model for run in runs])
    config = runs[0].config
    measured: list[dict[str, tuple[float, float]]] = [{} for _ in runs]
    splits = [("val", [run.val_data for run in runs])]
    if all(run.config.test_every_epoch for run in runs):
        splits.append(("test", [run.test_data for run in runs]))
    was_training = [run.model.training for run in runs]
    model.eval()
    try:
        for split, sets in splits:
            if len({_train_shape(data) for data in sets}) != 1:
                continue  # evaluate_epoch measures them one by one
            for k, scores in enumerate(_batched_scores(model, sets, config.eval_batch_size)):
                measured[k][split] = scores
    finally:
        for run, mode in zip(runs, was_training, strict=True):
            run.model.train(mode)
    return measured


def _batched_scores(model: BatchedModels, sets: Sequence[SequenceDataset], batch_size: int) -> list[tuple]:
    """``(loss, metric)`` of every member on its set, as :func:`~warm_rl.suite.trainer.evaluate` sums them."""
    count, task = len(sets[0]), sets[0].task
    total = torch.zeros(len(sets), dtype=torch.float64, device=sets[0].device)
    correct = torch.zeros_like(total)
    for start in range(0, count, batch_size):
        end = min(start + batch_size, count)
        pred = model(torch.stack([d.inputs[:, start:end] for d in sets], 2),
                     torch.stack([d.steps[:, start:end] for d in sets], 2))
        for k, data in enumerate(sets):
            loss_sum, correct_sum = batch_scores(pred[:, :, k], data.targets[:, start:end], task)
            total[k] += loss_sum
            correct[k] += correct_sum
    losses = (total / count).tolist()
    if task == "regression":
        return [(loss, loss) for loss in losses]
    return list(zip(losses, (correct / count).tolist(), strict=True))


def train_batched_epoch(runs: Sequence[Run], epoch: int) -> list[float]:
    """One pass over every member's training data, each in its own random order, in lockstep.

    Args:
        runs: the members (from :func:`~warm_rl.suite.trainer.start_run`); each
            member's order is drawn from its own generator, as
            :func:`~warm_rl.suite.trainer.train_epoch` draws it.
        epoch: the epoch number (for messages).

    Returns:
        Each member's mean training loss over the batches.

    Raises:
        RuntimeError: a non-finite loss, naming the member (seed and pre-training),
            epoch and batch.
    """
    config = runs[0].config
    model = BatchedModels([run.model for run in runs])
    model.train()
    data = [run.train_data for run in runs]
    device = data[0].device
    num_batches = math.ceil(len(data[0]) / config.batch_size)
    orders = [torch.randperm(len(d), generator=run.generator).to(device) for d, run in zip(data, runs, strict=True)]
    losses = torch.empty(num_batches, len(runs), device=device)
    progress = _progress_bar(config, num_batches, f"epoch {epoch}/{config.epochs} ({len(runs)} members)")
    checked = 0
    for batch in range(num_batches):
        window = slice(batch * config.batch_size, (batch + 1) * config.batch_size)
        index = [order[window] for order in orders]
        inputs = torch.stack([d.inputs[:, i] for d, i in zip(data, index, strict=True)], 2)
        steps = torch.stack([d.steps[:, i] for d, i in zip(data, index, strict=True)], 2)
        pred = model(inputs, steps)
        member_losses = torch.stack([
            masked_loss(pred[:, :, k], d.targets[:, i], d.task)
            for k, (d, i) in enumerate(zip(data, index, strict=True))
        ])
        for run in runs:
            run.optimizer.zero_grad(set_to_none=True)
        member_losses.sum().backward()  # member k's parameters see member k's loss only
        for run in runs:
            run.optimizer.step()
        losses[batch] = member_losses.detach()
        if (batch + 1) % config.sync_every == 0 or batch + 1 == num_batches:
            _check_members_finite(runs, losses, checked, batch + 1, epoch)
            checked = batch + 1
        if progress is not None:
            progress.update(1)
    if progress is not None:
        progress.close()
    return losses.double().mean(0).tolist()


def _check_members_finite(runs: Sequence[Run], losses: torch.Tensor, start: int, end: int, epoch: int) -> None:
    """One host synchronisation for all members; the member-by-member check only to name a failure."""
    if bool(torch.isfinite(losses[start:end]).all()):
        return
    for k, run in enumerate(runs):
        try:
            _check_finite(losses[:, k], start, end, epoch)
        except RuntimeError as error:
            raise RuntimeError(
                f"member {k} (seed {run.config.seed}, pretrain {run.config.pretrain!r}): {error}"
            ) from None


def _check_members(configs: Sequence[TrainConfig], datasets: Sequence[Sets]) -> None:
    if len(configs) == 0:
        raise ValueError("train_batched needs at least one config, got none")
    if len(configs) != len(datasets):
        raise ValueError(f"got {len(configs)} configs but {len(datasets)} data sets; one (train, val, test) each")
    first = configs[0]
    for k, config in enumerate(configs):
        if not isinstance(config, TrainConfig):
            raise TypeError(f"configs[{k}] must be a TrainConfig, got {type(config).__name__}")
        if config.vaa_reg is not None:
            raise ValueError(f"configs[{k}] has vaa_reg={config.vaa_reg!r}; train regularised runs one by one")
        differ = {name: (getattr(first, name), getattr(config, name)) for name in SHARED_FIELDS
                  if getattr(config, name) != getattr(first, name)}
        if differ:
            raise ValueError(f"configs[{k}] differs from configs[0] in fields batched members share: {differ}")
    shape = _train_shape(datasets[0][0])
    for k, sets in enumerate(datasets):
        if len(sets) != 3:
            raise ValueError(f"datasets[{k}] must be (train, val, test), got {len(sets)} sets")
        if _train_shape(sets[0]) != shape:
            raise ValueError(
                f"datasets[{k}]'s training set has (size, T, features, output steps, task) "
                f"{_train_shape(sets[0])}, datasets[0]'s {shape}; batched members need the same"
            )


def _train_shape(data: SequenceDataset) -> tuple:
    return (len(data), data.seq_length, data.input_size, data.steps.shape[0], data.task)
