"""Supervised training of a recurrent model on a :class:`~warm_rl.suite.data.SequenceDataset`.

A model is a :class:`~warm_rl.RecurrentNet` followed by a linear readout read at
the output steps. :func:`train` optionally pre-trains the network first
(:func:`pretrain_model`, one of :data:`PRETRAIN_MODES`: warm-up, LSC or both),
then runs Adam on the loss at the output steps only (MSE for regression,
cross-entropy for classification) one :func:`train_epoch` at a time, keeps the
model that is best on the validation set, measures the exact VAA of the network
after every epoch (:func:`evaluate_epoch`), and reports the test metric of the
kept model.

The data stays on the training device; an epoch draws one permutation, indexes
batches on the device and synchronises with the host only every
``TrainConfig.sync_every`` batches (loss display and NaN check).
"""

from __future__ import annotations

import copy
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from warm_rl.inits import INITIALISATIONS, initialise
from warm_rl.lsc import LSCConfig, lsc_pretrain
from warm_rl.network import RecurrentNet
from warm_rl.suite.data import SequenceDataset
from warm_rl.vaa import vaa
from warm_rl.vaa_regularizer import VAARegularizer
from warm_rl.validation import check_choice, check_int, refuse_renamed_fields
from warm_rl.warmup import WarmupConfig, warm_up

WARMUP_MODES: tuple[str, ...] = ("none", "full", "double")
"""The warm-up paper's modes: ``none``: no pre-training; ``full``: warm up the whole
network; ``double``: double layers, only their warm halves warmed up (DLWU)."""

PRETRAIN_MODES: tuple[str, ...] = (*WARMUP_MODES, "lsc", "lsc_half", "double_lsc")
""":data:`WARMUP_MODES` and the LSC ones: ``lsc``: LSC pre-training (target 1) of the
whole network; ``lsc_half``: the same with target 0.5 (the LSC paper's remedy for deep
stacks); ``double_lsc``: double layers, warm halves warmed up, then cold halves LSC
pre-trained. ``TrainConfig.lsc_config`` overrides the LSC settings (its ``target``
wins over the mode's)."""

MODE_PRETRAINING: dict[str, tuple[str | None, bool]] = {
    "none": (None, False), "full": ("warmup", False), "double": ("warmup", True),
    "lsc": ("lsc", False), "lsc_half": ("lsc", False), "double_lsc": ("warmup+lsc", True),
}
"""Mode -> (the agents' ``pretrain`` word for it, double layers)."""

MODE_LSC_TARGET: dict[str, float] = {"lsc_half": 0.5}
"""LSC target of the modes whose target is not LSCConfig's default 1."""

CHECKPOINT_KEYS: tuple[str, ...] = ("cell", "hidden_size", "num_layers", "pretrain", "cell_kwargs")
"""Config fields that must match for a checkpoint to be resumed."""

RENAMED_FIELDS: dict[str, str] = {"vaa_steps": "vaa_horizon", "warmup": "pretrain"}
"""Old :class:`TrainConfig` field names and their new names (the old ones raise ``TypeError``)."""


def resolve_device(device: torch.device | str | None) -> torch.device:
    """``"auto"`` (or None) -> CUDA when available, else the CPU; anything else as given."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device} requested but CUDA is not available")
    return device


class SequenceModel(nn.Module):
    """A :class:`~warm_rl.RecurrentNet` and a linear readout.

    Args:
        cell: a cell name of :data:`warm_rl.CELL_NAMES`.
        input_size: features per input step.
        hidden_size: width of each recurrent layer.
        num_outputs: readout size (regression outputs or classes).
        num_layers: recurrent layers.
        double: build double layers (for the ``"double"`` and ``"double_lsc"`` modes).
        **cell_kwargs: passed to the cell (``t_max`` for ``"chrono"``).

    Attributes:
        rnn: the recurrent network (what warm-up and VAA act on).
        readout: the linear layer applied at the output steps.
    """

    def __init__(
        self,
        cell: str,
        input_size: int,
        hidden_size: int,
        num_outputs: int,
        num_layers: int = 1,
        double: bool = False,
        **cell_kwargs,
    ) -> None:
        super().__init__()
        self.rnn = RecurrentNet(cell, input_size, hidden_size, num_layers, double, **cell_kwargs)
        self.readout = nn.Linear(hidden_size, num_outputs)

    def forward(self, inputs: Tensor, steps: Tensor | None = None) -> Tensor:
        """Readout at the output steps (at every step when ``steps`` is None).

        Args:
            inputs: input sequences.
            steps: the output steps of each sequence.

        Returns:
            The readout.

        Shape:
            inputs ``(T, B, input_size)``; steps ``(K, B)``; returns
            ``(K, B, num_outputs)`` (``(T, B, num_outputs)`` without steps).
        """
        out, _ = self.rnn(inputs)
        if steps is not None:
            index = steps.unsqueeze(-1).expand(-1, -1, out.shape[-1])
            out = out.gather(0, index)
        return self.readout(out)


def masked_loss(prediction: Tensor, targets: Tensor, task: str) -> Tensor:
    """Mean loss over the output steps: MSE (regression) or cross-entropy.

    Args:
        prediction: the readout at the output steps.
        targets: the targets at those steps.
        task: ``"regression"`` or ``"classification"``.

    Shape:
        prediction ``(K, B, O)``; targets ``(K, B, O)`` (regression) or
        ``(K, B)`` class indices (classification); returns a scalar.
    """
    if task == "regression":
        return F.mse_loss(prediction, targets)
    return F.cross_entropy(prediction.flatten(0, 1), targets.flatten())


@refuse_renamed_fields("TrainConfig", RENAMED_FIELDS)
@dataclass
class TrainConfig:
    """Everything a training run needs besides the data.

    Attributes:
        cell: recurrent cell (see :data:`warm_rl.CELL_NAMES`).
        hidden_size: width of each layer.
        num_layers: number of recurrent layers.
        pretrain: the pre-training, one of :data:`PRETRAIN_MODES` (was ``warmup``).
        epochs: training epochs.
        batch_size: training batch size (the paper: 32).
        lr: Adam learning rate (the paper: 1e-3).
        seed: seed of the initialisation, warm-up, batches and VAA draws.
        cell_kwargs: extra cell arguments; ``chrono`` gets ``t_max`` = the
            sequence length when not given.
        warmup_config: :class:`~warm_rl.WarmupConfig` fields (a dict, or the
            config); the paper's defaults when None. Its seed defaults to ``seed``.
        lsc_config: :class:`~warm_rl.LSCConfig` fields (a dict, or the config) for
            the LSC modes; its defaults when None. Its seed defaults to ``seed``.
        warmup_pool: number of training sequences (a random subset) given to
            the pre-training.
        vaa_samples: sequences used for the exact VAA after each epoch (0: no VAA).
        vaa_horizon: ``M``, the perturbation steps of the exact VAA (was ``vaa_steps``).
        vaa_eps: distance threshold of the exact VAA.
        eval_batch_size: batch size of validation and test passes.
        test_every_epoch: evaluate the test set after every epoch (for the
            learning curves); the final test of the kept model is always done.
        device: ``"auto"``, ``"cpu"``, ``"cuda"``, ...
        progress: show progress bars.
        log_dir: TensorBoard directory (None: no TensorBoard).
        checkpoint: file written after every epoch (None: none).
        resume: continue from ``checkpoint`` when it exists.
        sync_every: batches between host synchronisations (progress-bar loss,
            NaN check); the check also runs at the end of every epoch.
        init: the initialisation before any pre-training (:data:`warm_rl.inits.INITIALISATIONS`;
            ``"chrono"`` takes ``t_max`` = the sequence length).
        vaa_reg: :class:`~warm_rl.VAARegularizer` fields (``weight`` at least) adding
            ``weight * mean_l (VAA*_l - target)^2`` of the batch's own sequences to the
            training loss every ``every`` batches (None: no regulariser).
        flush_denormal: on the CPU, call ``torch.set_flush_denormal(True)``
            (a process-wide setting): vanishing gradients of long sequences
            otherwise turn into subnormal floats that make CPU matmuls ~5x
            slower (GRU 1x128, T=300: 830 -> 170 ms per batch). No effect on
            CUDA, and none on the results beyond values below 1e-38.
    """

    cell: str = "gru"
    hidden_size: int = 128
    num_layers: int = 1
    pretrain: str = "none"
    epochs: int = 50
    batch_size: int = 32
    lr: float = 1e-3
    seed: int = 0
    cell_kwargs: dict = field(default_factory=dict)
    warmup_config: dict | None = None
    lsc_config: dict | None = None
    warmup_pool: int = 1024
    vaa_samples: int = 100
    vaa_horizon: int = 1000
    vaa_eps: float = 1e-4
    eval_batch_size: int = 1024
    test_every_epoch: bool = True
    device: str = "auto"
    progress: bool = True
    log_dir: str | None = None
    checkpoint: str | None = None
    resume: bool = True
    sync_every: int = 100
    flush_denormal: bool = True
    vaa_reg: dict | None = None
    init: str = "default"

    def __post_init__(self) -> None:
        if self.pretrain not in PRETRAIN_MODES:
            raise ValueError(f"pretrain must be one of {PRETRAIN_MODES}, got {self.pretrain!r}")
        for name in ("hidden_size", "num_layers", "batch_size", "eval_batch_size", "sync_every"):
            check_int(name, getattr(self, name), minimum=1)
        for name in ("epochs", "warmup_pool", "vaa_samples", "vaa_horizon"):
            check_int(name, getattr(self, name), minimum=0)
        if not isinstance(self.lr, (int, float)) or not self.lr > 0:
            raise ValueError(f"lr must be a number > 0, got {self.lr!r}")
        if self.double and self.hidden_size % 2:
            raise ValueError(f"pretrain={self.pretrain!r} needs an even hidden_size, got {self.hidden_size}")
        if isinstance(self.warmup_config, WarmupConfig):
            self.warmup_config = self.warmup_config.to_dict()
        WarmupConfig.from_value(self.warmup_config)  # validates
        if isinstance(self.lsc_config, LSCConfig):
            self.lsc_config = self.lsc_config.to_dict()
        LSCConfig.from_value(self.lsc_config)  # validates
        if isinstance(self.vaa_reg, VAARegularizer):
            self.vaa_reg = self.vaa_reg.to_dict()
        if self.vaa_reg is not None and not isinstance(self.vaa_reg, dict):
            raise TypeError(f"vaa_reg must be a dict of VAARegularizer fields or None, got {self.vaa_reg!r}")
        self.regularizer()  # validates
        check_choice("init", self.init, INITIALISATIONS)

    def regularizer(self) -> VAARegularizer | None:
        """The VAA* regulariser of the training loss (None without ``vaa_reg``); seeded by ``seed``
        unless ``vaa_reg`` gives its own."""
        if self.vaa_reg is None:
            return None
        return VAARegularizer(**{"seed": self.seed, **self.vaa_reg})

    @property
    def double(self) -> bool:
        """Whether the mode builds double layers."""
        return MODE_PRETRAINING[self.pretrain][1]

    def to_dict(self) -> dict:
        """The fields as a dict (JSON-serialisable)."""
        return asdict(self)




@dataclass
class TrainResult:
    """The outcome of :func:`train`.

    Attributes:
        test_loss: test loss of the kept (best-on-validation) model.
        test_metric: its test metric: MSE (regression) or accuracy.
        best_epoch: the epoch of the kept model (0: before training).
        history: one dict per epoch, epoch 0 being the model before training
            (after warm-up): ``epoch``, ``train_loss``, ``val_loss``,
            ``val_metric``, ``test_loss``, ``test_metric``, ``vaa``, ``seconds``.
        warmup: the warm-up report as a dict (None without warm-up).
        lsc: the LSC pre-training report as a dict (None without LSC).
        model: the kept model.
        config: the config used, as a dict.
        metric_name: ``"mse"`` or ``"accuracy"``.
        seconds: wall time of the whole run.
    """

    test_loss: float
    test_metric: float
    best_epoch: int
    history: list[dict]
    warmup: dict | None
    lsc: dict | None
    model: SequenceModel
    config: dict
    metric_name: str
    seconds: float

    def summary(self) -> dict:
        """The result without the model (JSON-serialisable)."""
        return {k: v for k, v in _fields_dict(self).items() if k != "model"}


def _fields_dict(obj) -> dict:
    return {name: getattr(obj, name) for name in obj.__dataclass_fields__}


@torch.no_grad()
def evaluate(
    model: SequenceModel, data: SequenceDataset, batch_size: int = 1024
) -> tuple[float, float]:
    """Loss and metric (MSE, or accuracy for classification) over a data set.

    Args:
        model: the model, on the device of ``data`` (left in the mode it was in).
        data: the set, passed in batches of ``batch_size`` sequences.
        batch_size: sequences per forward pass.

    Returns:
        ``(loss, metric)``: the mean loss per output (MSE: per output value);
        the metric is the loss for regression, the accuracy over the output
        steps for classification.
    """
    was_training = model.training
    model.eval()
    total_loss = torch.zeros((), device=data.device, dtype=torch.float64)
    correct = torch.zeros((), device=data.device, dtype=torch.float64)
    count = len(data)
    try:
        for start in range(0, count, batch_size):
            end = min(start + batch_size, count)
            pred = model(data.inputs[:, start:end], data.steps[:, start:end])
            loss_sum, correct_sum = batch_scores(pred, data.targets[:, start:end], data.task)
            total_loss += loss_sum
            correct += correct_sum
    finally:
        model.train(was_training)
    loss = float(total_loss) / count
    metric = loss if data.task == "regression" else float(correct) / count
    return loss, metric


def batch_scores(prediction: Tensor, targets: Tensor, task: str) -> tuple[Tensor, Tensor]:
    """A batch's summed loss (the mean loss times the batch size) and, for classification,
    its summed accuracy over the output steps (0 for regression); what :func:`evaluate` adds up.

    Shape:
        prediction ``(K, B, O)``; targets ``(K, B, O)`` (regression) or ``(K, B)``; returns two scalars.
    """
    size = prediction.shape[1]
    loss = masked_loss(prediction, targets, task).double() * size
    if task != "classification":
        return loss, torch.zeros((), dtype=torch.float64, device=prediction.device)
    return loss, (prediction.argmax(-1) == targets).double().mean(0).sum()


def _better(metric: float, best: float | None, task: str) -> bool:
    if math.isnan(metric):
        return False
    if best is None:
        return True
    return metric < best if task == "regression" else metric > best


def _summary_writer(log_dir: str | None):
    if log_dir is None:
        return None
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter(log_dir)


def _save_checkpoint(path: str, payload: dict) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def build_model(config: TrainConfig, data: SequenceDataset) -> SequenceModel:
    """The model ``config`` describes, sized for ``data`` (on the CPU)."""
    cell_kwargs = dict(config.cell_kwargs)
    if config.cell == "chrono":
        cell_kwargs.setdefault("t_max", data.seq_length)
    model = SequenceModel(
        config.cell, data.input_size, config.hidden_size, data.num_outputs,
        config.num_layers, config.double, **cell_kwargs,
    )
    initialise(model.rnn, config.init, t_max=data.seq_length)
    return model


@dataclass
class TrainState:
    """What a run has done so far (what a checkpoint holds besides the model and optimiser).

    Attributes:
        history: one record per finished epoch (see :attr:`TrainResult.history`).
        warmup: the warm-up report as a dict (None without warm-up).
        lsc: the LSC pre-training report as a dict (None without LSC).
        best_state: ``state_dict`` of the model that is best on validation.
        best_val: its validation metric.
        best_epoch: its epoch (0: before training).
        epoch: the last finished epoch (0: only the pre-training).
    """

    history: list[dict] = field(default_factory=list)
    warmup: dict | None = None
    lsc: dict | None = None
    best_state: dict | None = None
    best_val: float | None = None
    best_epoch: int = 0
    epoch: int = 0

    def keep_if_better(self, model: nn.Module, record: dict, task: str) -> None:
        """Appends an epoch record; keeps a copy of the model when it is the best on validation."""
        self.history.append(record)
        self.epoch = record["epoch"]
        if record["epoch"] == 0 or _better(record["val_metric"], self.best_val, task):
            self.best_val, self.best_epoch = record["val_metric"], record["epoch"]
            self.best_state = copy.deepcopy(model.state_dict())


def _prepare_sets(
    config: TrainConfig, sets: tuple[SequenceDataset, SequenceDataset, SequenceDataset]
) -> tuple[torch.device, tuple[SequenceDataset, SequenceDataset, SequenceDataset]]:
    """The training device and the three sets moved to it, checked to be of one task and input size."""
    device = resolve_device(config.device)
    if device.type == "cpu" and config.flush_denormal:
        torch.set_flush_denormal(True)
    train_data, val_data, test_data = (d.to(device) for d in sets)
    for other in (val_data, test_data):
        if other.task != train_data.task or other.input_size != train_data.input_size:
            raise ValueError(
                f"train/val/test sets differ: task {train_data.task!r} vs {other.task!r}, "
                f"input_size {train_data.input_size} vs {other.input_size}"
            )
    return device, (train_data, val_data, test_data)


def pretrain_model(model: SequenceModel, config: TrainConfig, sequences: tuple[Tensor, Tensor]) -> dict:
    """The pre-training ``config.pretrain`` asks for, run on ``model.rnn`` in place (before training).

    The one place where the pre-training is chosen (:data:`PRETRAIN_MODES`):
    ``"full"`` and ``"double"`` warm the network up (:func:`warm_rl.warm_up`; the
    double layers are built by :func:`build_model`); ``"lsc"`` and ``"lsc_half"``
    LSC-pre-train it with the readout as the output term
    (:func:`warm_rl.lsc_pretrain`); ``"double_lsc"`` warms up, then LSC trains the
    cold halves; ``"none"`` does nothing.

    Args:
        model: the model to pre-train.
        config: the run's settings (``pretrain``, ``warmup_config``, ``lsc_config``,
            ``seed``, ``progress``).
        sequences: the pre-training data, ``(padded, lengths)`` on the model's device.

    Returns:
        ``{"warmup": report dict or None, "lsc": report dict or None}``.

    Shape:
        sequences ``(T, N, input_size)`` and ``(N,)``.
    """
    pretrain, _ = MODE_PRETRAINING[config.pretrain]
    done: dict[str, dict | None] = {"warmup": None, "lsc": None}
    if pretrain is not None and "warmup" in pretrain:
        settings = dict(config.warmup_config or {})
        settings.setdefault("seed", config.seed)
        settings.setdefault("progress", config.progress)
        done["warmup"] = _fields_dict(warm_up(model.rnn, sequences, WarmupConfig.from_value(settings)))
    if pretrain is not None and "lsc" in pretrain:
        settings = dict(config.lsc_config or {})
        settings.setdefault("seed", config.seed)
        if config.pretrain in MODE_LSC_TARGET:
            settings.setdefault("target", MODE_LSC_TARGET[config.pretrain])
        done["lsc"] = _fields_dict(lsc_pretrain(model.rnn, sequences, settings, head=model.readout))
    return done


def train_epoch(
    model: SequenceModel,
    optimizer: torch.optim.Optimizer,
    data: SequenceDataset,
    config: TrainConfig,
    generator: torch.Generator,
    epoch: int,
    regularizer: VAARegularizer | None = None,
) -> float:
    """One pass over the training data in a random order (drawn from ``generator``).

    Args:
        model: the model, on the device of ``data``.
        optimizer: its optimiser (one step per batch of ``config.batch_size``).
        data: the training set.
        config: the run's settings (``batch_size``, ``sync_every``, ``progress``, ``epochs``).
        generator: CPU generator of the batch order.
        epoch: the epoch number (for messages).
        regularizer: a VAA* regulariser added to the loss where it is due (batches are
            counted over the whole run, from epoch 1); its values go to
            ``regularizer.log``.

    Returns:
        The mean training loss over the batches (the task loss, without the regulariser).

    Raises:
        RuntimeError: a non-finite loss (naming epoch and batch).
    """
    model.train()
    num_batches = math.ceil(len(data) / config.batch_size)
    order = torch.randperm(len(data), generator=generator).to(data.device)
    losses = torch.empty(num_batches, device=data.device)
    progress = _progress_bar(config, num_batches, f"epoch {epoch}/{config.epochs}")
    checked = 0
    for batch in range(num_batches):
        index = order[batch * config.batch_size : (batch + 1) * config.batch_size]
        pred = model(data.inputs[:, index], data.steps[:, index])
        loss = masked_loss(pred, data.targets[:, index], data.task)
        total = loss
        if regularizer is not None:
            term = regularizer.term(model.rnn, data.inputs[:, index], None, (epoch - 1) * num_batches + batch)
            total = loss if term is None else loss + term
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        optimizer.step()
        losses[batch] = loss.detach()
        if (batch + 1) % config.sync_every == 0 or batch + 1 == num_batches:
            _check_finite(losses, checked, batch + 1, epoch)
            checked = batch + 1
            if progress is not None:
                progress.set_postfix(loss=f"{float(losses[batch]):.4g}")
        if progress is not None:
            progress.update(1)
    if progress is not None:
        progress.close()
    return float(losses.double().mean())


def _progress_bar(config: TrainConfig, total: int, desc: str):
    if not config.progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, leave=False)


def _resume(
    config: TrainConfig,
    model: SequenceModel,
    optimizer: torch.optim.Optimizer,
    generator: torch.Generator,
    device: torch.device,
) -> TrainState | None:
    """Loads ``config.checkpoint`` into the model, optimiser and generator (None: nothing to resume)."""
    checkpoint = config.checkpoint
    if checkpoint is None or not config.resume or not Path(checkpoint).is_file():
        return None
    saved = torch.load(checkpoint, map_location=device, weights_only=False)
    settings = dict(saved["config"])
    settings.setdefault("pretrain", settings.get("warmup"))  # checkpoints written before the rename
    mismatch = {
        k: (settings.get(k), getattr(config, k)) for k in CHECKPOINT_KEYS if settings.get(k) != getattr(config, k)
    }
    if mismatch:
        raise ValueError(f"checkpoint {checkpoint} was made with other settings: {mismatch}")
    model.load_state_dict(saved["model"])
    optimizer.load_state_dict(saved["optimizer"])
    generator.set_state(saved["generator"].cpu())  # a CPU generator; map_location moved its state
    return TrainState(
        history=saved["history"], warmup=saved["warmup"], lsc=saved.get("lsc"), best_state=saved["best_state"],
        best_val=saved["best_val"], best_epoch=saved["best_epoch"], epoch=saved["epoch"],
    )


def _checkpoint(
    config: TrainConfig, state: TrainState, model: nn.Module, optimizer: torch.optim.Optimizer,
    generator: torch.Generator,
) -> None:
    if config.checkpoint is not None:
        _save_checkpoint(config.checkpoint, {
            "config": config.to_dict(), "epoch": state.epoch, "model": model.state_dict(),
            "optimizer": optimizer.state_dict(), "generator": generator.get_state(),
            "history": state.history, "warmup": state.warmup, "lsc": state.lsc, "best_state": state.best_state,
            "best_val": state.best_val, "best_epoch": state.best_epoch,
        })


def train(
    config: TrainConfig,
    train_data: SequenceDataset,
    val_data: SequenceDataset,
    test_data: SequenceDataset,
) -> TrainResult:
    """Trains a model (after an optional pre-training) and tests the best one.

    Args:
        config: the run's settings.
        train_data: training set (moved to the device if it is not there).
        val_data: validation set, which selects the kept model.
        test_data: held-out test set.

    Returns:
        A :class:`TrainResult`.

    Raises:
        RuntimeError: a non-finite training loss (naming epoch and batch).
        ValueError: data sets of different tasks or input sizes, or a
            checkpoint made with a different model.
    """
    run = start_run(config, train_data, val_data, test_data)
    for epoch in range(run.state.epoch + 1, config.epochs + 1):
        epoch_start = time.perf_counter()
        train_loss = train_epoch(run.model, run.optimizer, run.train_data, config, run.generator, epoch,
                                 run.regularizer)
        end_epoch(run, epoch, train_loss, time.perf_counter() - epoch_start)
    return finish_run(run)


@dataclass
class Run:
    """A training run between :func:`start_run` and :func:`finish_run` (what :func:`train` holds).

    Attributes:
        config: the run's settings.
        model: the model being trained, on the training device.
        optimizer: its Adam optimiser.
        generator: the CPU generator of the batch order.
        state: what the run has done so far.
        train_data, val_data, test_data: the sets, on the training device.
        vaa_sequences: the training sequences of the per-epoch VAA, ``(padded, lengths)``.
        regularizer: the VAA* regulariser (None without ``vaa_reg``).
        writer: the TensorBoard writer (None without ``log_dir``).
        start_time: ``time.perf_counter()`` when the run started.
    """

    config: TrainConfig
    model: SequenceModel
    optimizer: torch.optim.Optimizer
    generator: torch.Generator
    state: TrainState
    train_data: SequenceDataset
    val_data: SequenceDataset
    test_data: SequenceDataset
    vaa_sequences: tuple[Tensor, Tensor]
    regularizer: VAARegularizer | None
    writer: object
    start_time: float


def start_run(
    config: TrainConfig, train_data: SequenceDataset, val_data: SequenceDataset, test_data: SequenceDataset
) -> Run:
    """Builds the run's model, then resumes it from its checkpoint, or pre-trains it and records epoch 0.

    Args and Raises: as :func:`train`.
    """
    start_time = time.perf_counter()
    device, (train_data, val_data, test_data) = _prepare_sets(config, (train_data, val_data, test_data))
    model, generator, pool_index = seeded_model(config, train_data)
    model = model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)

    def sequences(index: Tensor) -> tuple[Tensor, Tensor]:
        return pool_sequences(train_data, index, device)

    vaa_sequences = sequences(pool_index[: config.vaa_samples])
    writer = _summary_writer(config.log_dir)
    state = _resume(config, model, optimizer, generator, device)
    if state is None:
        done = pretrain_model(model, config, sequences(pool_index[: max(1, config.warmup_pool)]))
        state = TrainState(warmup=done["warmup"], lsc=done["lsc"])
        _log_pretraining(writer, state.warmup, state.lsc)
        record = evaluate_epoch(model, 0, math.nan, val_data, test_data, config, vaa_sequences, 0.0)
        state.keep_if_better(model, record, train_data.task)
        _log(writer, record)
    return Run(config, model, optimizer, generator, state, train_data, val_data, test_data, vaa_sequences,
               config.regularizer(), writer, start_time)


def end_epoch(
    run: Run, epoch: int, train_loss: float, seconds: float, measured: dict[str, tuple[float, float]] | None = None
) -> dict:
    """Evaluates the model after a training epoch, keeps it if best, logs, checkpoints; returns the record.

    Args:
        run: the run.
        epoch: the epoch just trained.
        train_loss: its mean training loss.
        seconds: its training time.
        measured: validation / test losses and metrics already measured (see :func:`evaluate_epoch`).
    """
    config = run.config
    record = evaluate_epoch(run.model, epoch, train_loss, run.val_data, run.test_data, config,
                            run.vaa_sequences, seconds, measured)
    if run.regularizer is not None:
        record.update(run.regularizer.summary())
    run.state.keep_if_better(run.model, record, run.train_data.task)
    _log(run.writer, record)
    _checkpoint(config, run.state, run.model, run.optimizer, run.generator)
    _print_epoch(config, record, _metric_name(run.train_data.task))
    return record


def finish_run(run: Run) -> TrainResult:
    """Loads the kept model, tests it and closes the TensorBoard writer."""
    return _finish(run.config, run.state, run.model, run.test_data, run.writer, run.start_time)


def seeded_model(config: TrainConfig, train_data: SequenceDataset) -> tuple[SequenceModel, torch.Generator, Tensor]:
    """The model :func:`train` starts from, before pre-training, with the run's generator and
    the random order of the training sequences whose first ones feed pre-training and the VAA.

    Returns:
        ``(model on the CPU, generator, pool_index)``; the pre-training sequences are
        ``pool_sequences(train_data, pool_index[:config.warmup_pool])``.
    """
    torch.manual_seed(config.seed)
    model = build_model(config, train_data)
    generator = torch.Generator().manual_seed(config.seed)
    return model, generator, torch.randperm(len(train_data), generator=generator)


def pool_sequences(data: SequenceDataset, index: Tensor, device: torch.device | str = "cpu") -> tuple[Tensor, Tensor]:
    """The sequences ``index`` of ``data`` as ``(padded, lengths)`` on ``device`` (all ``seq_length`` long).

    Shape:
        index ``(n,)``; returns ``(T, n, F)`` and ``(n,)``.
    """
    lengths = torch.full((len(index),), data.seq_length, dtype=torch.long)
    return data.inputs[:, index.to(data.inputs.device)].to(device), lengths.to(device)


def _metric_name(task: str) -> str:
    return "mse" if task == "regression" else "accuracy"


def _finish(
    config: TrainConfig, state: TrainState, model: SequenceModel, test_data: SequenceDataset, writer,
    start_time: float,
) -> TrainResult:
    """Loads the kept model, tests it and closes the TensorBoard writer; ``start_time`` of the run."""
    if state.best_state is not None:
        model.load_state_dict(state.best_state)
    test_loss, test_metric = evaluate(model, test_data, config.eval_batch_size)
    if writer is not None:
        writer.add_scalar("test/best_metric", test_metric, state.best_epoch)
        writer.close()
    return TrainResult(
        test_loss=test_loss, test_metric=test_metric, best_epoch=state.best_epoch, history=state.history,
        warmup=state.warmup, lsc=state.lsc, model=model, config=config.to_dict(),
        metric_name=_metric_name(test_data.task), seconds=time.perf_counter() - start_time,
    )


def _print_epoch(config: TrainConfig, record: dict, metric_name: str) -> None:
    if config.progress:
        from tqdm.auto import tqdm

        tqdm.write(
            f"epoch {record['epoch']}: train {record['train_loss']:.4g}  val {metric_name} "
            f"{record['val_metric']:.4g}  vaa {record['vaa']:.3g}  "
            f"({record['seconds']:.1f}s)"
        )


def _log_pretraining(writer, warmup: dict | None, lsc: dict | None) -> None:
    """Writes the pre-training curves to TensorBoard, on their own step axes: warm-up's loss and
    per-layer VAA* (``warmup/loss``, ``warmup/vaa_star_layer<l>``), LSC's loss and per-term radius
    (``warmup/lsc_loss``, ``warmup/lsc_radius_<term>``)."""
    if writer is None:
        return
    if warmup is not None:
        for step, (loss, per_layer) in enumerate(zip(warmup["losses"], warmup["vaa_star"], strict=True)):
            writer.add_scalar("warmup/loss", loss, step)
            for layer, value in enumerate(per_layer):
                writer.add_scalar(f"warmup/vaa_star_layer{layer}", value, step)
    if lsc is not None:
        for step, loss in enumerate(lsc["losses"]):
            writer.add_scalar("warmup/lsc_loss", loss, step)
        for term, values in lsc["radii"].items():
            for step, value in enumerate(values):
                writer.add_scalar(f"warmup/lsc_radius_{term}", value, step)


def _check_finite(losses: Tensor, start: int, end: int, epoch: int) -> None:
    chunk = losses[start:end]
    finite = torch.isfinite(chunk)
    if not bool(finite.all()):
        batch = start + int((~finite).nonzero()[0, 0])
        raise RuntimeError(
            f"non-finite training loss ({float(chunk[batch - start])}) at epoch {epoch}, "
            f"batch {batch}; lower the learning rate or check the data"
        )


def evaluate_epoch(
    model: SequenceModel,
    epoch: int,
    train_loss: float,
    val_data: SequenceDataset,
    test_data: SequenceDataset,
    config: TrainConfig,
    vaa_sequences: tuple[Tensor, Tensor],
    seconds: float,
    measured: dict[str, tuple[float, float]] | None = None,
) -> dict:
    """The record of one epoch: validation (and test) loss and metric, and the exact VAA of the network.

    Args:
        model: the model after the epoch (epoch 0: after pre-training).
        epoch: the epoch number.
        train_loss: its mean training loss (nan for epoch 0).
        val_data, test_data: the validation and test sets.
        config: the run's settings (``test_every_epoch``, ``vaa_samples``,
            ``vaa_horizon``, ``vaa_eps``, ``eval_batch_size``, ``seed``).
        vaa_sequences: the training sequences of the VAA, ``(padded, lengths)``.
        seconds: the epoch's training time.
        measured: ``{"val": (loss, metric), "test": (loss, metric)}`` already
            measured (a batched run evaluates its members together); None: evaluate here.

    Returns:
        A dict with ``epoch``, ``train_loss``, ``val_loss``, ``val_metric``,
        ``test_loss``, ``test_metric`` (nan unless ``test_every_epoch``),
        ``vaa`` (nan when disabled) and ``seconds``.

    Shape:
        vaa_sequences ``(T, N, input_size)`` and ``(N,)``.
    """
    measured = measured or {}
    val_loss, val_metric = measured.get("val") or evaluate(model, val_data, config.eval_batch_size)
    test_loss, test_metric = math.nan, math.nan
    if config.test_every_epoch:
        test_loss, test_metric = measured.get("test") or evaluate(model, test_data, config.eval_batch_size)
    value = math.nan
    if config.vaa_samples > 0 and config.vaa_horizon > 0:
        value = vaa(model.rnn, vaa_sequences, horizon=config.vaa_horizon, eps=config.vaa_eps,
                    seed=config.seed * 100_003 + epoch)
    return {
        "epoch": epoch, "train_loss": train_loss, "val_loss": val_loss, "val_metric": val_metric,
        "test_loss": test_loss, "test_metric": test_metric, "vaa": value, "seconds": seconds,
    }


def _log(writer, record: dict) -> None:
    if writer is None:
        return
    step = record["epoch"]
    for key in ("train_loss", "val_loss", "val_metric", "test_loss", "test_metric", "vaa"):
        value = record[key]
        if not math.isnan(value):
            group, _, name = key.partition("_")
            tag = "vaa/network" if key == "vaa" else f"{group}/{name}"
            writer.add_scalar(tag, value, step)
    writer.add_scalar("time/epoch_seconds", record["seconds"], step)
