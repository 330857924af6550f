"""The supervised benchmarks of the warm-up paper, generated reproducibly.

Three families, all sequence-first to match :class:`warm_rl.RecurrentNet`:

* :func:`copy_first_input` - a 1-D N(0, 1) series of ``T`` steps; the output
  read at the last step must equal the first input.
* :func:`denoising` - a 2-D series (stream, marker) of ``T`` steps; five stream
  values marked with 1, none of them in the last ``N`` steps, must be output
  in order at the last five steps (marker -1).
* :func:`sequential_images` - MNIST-format images shown one pixel per step
  (optionally in a fixed permuted order, optionally followed by blank steps);
  the class is read at the last step.

Every data set is a :class:`SequenceDataset`: inputs, the output steps (a
mask) and the targets at those steps. Synthetic data is drawn on the CPU from a
``torch.Generator`` seeded with the given seed (so it is identical on every
device) and then moved to ``device`` once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields

import numpy as np
import torch
from torch import Tensor

from warm_rl.suite.idx import load_idx_split

TASKS: tuple[str, ...] = ("regression", "classification")
BENCHMARKS: tuple[str, ...] = ("copy", "denoising", "smnist", "psmnist")
"""Benchmark names accepted by :func:`make_benchmark`."""

PERMUTATION_SEED = 0
"""Seed of the fixed pixel order of permuted sequential images: the order is
``numpy.random.RandomState(0).permutation(num_pixels)`` (numpy's legacy
generator, whose stream is guaranteed stable across numpy versions)."""

DENOISING_MARKED = 5
"""Number of stream values to remember in the denoising benchmark."""

SPLIT_INDEX = {"train": 0, "val": 1, "test": 2}


def split_seed(seed: int, split: str) -> int:
    """The seed of one split's generator, derived from the run seed.

    ``numpy.random.SeedSequence([seed, index of split])`` so that the train,
    validation and test sets of one seed are independent and every seed gives
    different data.
    """
    if split not in SPLIT_INDEX:
        raise ValueError(f"split must be one of {sorted(SPLIT_INDEX)}, got {split!r}")
    return int(np.random.SeedSequence([int(seed), SPLIT_INDEX[split]]).generate_state(1)[0])


@dataclass
class SequenceDataset:
    """A set of equal-length sequences with targets at a few output steps.

    Every sample has the same number ``K`` of output steps; ``steps[k, n]`` is
    the ``k``-th (in time order) output step of sample ``n`` and ``mask`` marks
    the same steps.

    Attributes:
        inputs: the input series, float32.
        targets: regression targets (float32) or class labels (int64) at the
            output steps, in time order.
        mask: True at the output steps.
        steps: the output steps, in time order.
        task: ``"regression"`` (MSE loss) or ``"classification"``
            (cross-entropy).
        num_outputs: regression target size ``O`` or number of classes.

    Shape:
        inputs ``(T, N, F)``; targets ``(K, N, O)`` for regression, ``(K, N)``
        for classification; mask ``(T, N)``; steps ``(K, N)``.
    """

    inputs: Tensor
    targets: Tensor
    mask: Tensor
    steps: Tensor
    task: str
    num_outputs: int

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, got {self.task!r}")
        if self.inputs.dim() != 3:
            raise ValueError(f"inputs must be (T, N, F), got {tuple(self.inputs.shape)}")
        steps, count = self.inputs.shape[:2]
        if self.mask.shape != (steps, count):
            raise ValueError(f"mask must have shape {(steps, count)}, got {tuple(self.mask.shape)}")
        if self.steps.dim() != 2 or self.steps.shape[1] != count:
            raise ValueError(f"steps must be (K, {count}), got {tuple(self.steps.shape)}")
        expected = tuple(self.steps.shape) + (
            (self.num_outputs,) if self.task == "regression" else ()
        )
        if tuple(self.targets.shape) != expected:
            raise ValueError(f"targets must have shape {expected}, got {tuple(self.targets.shape)}")

    def __len__(self) -> int:
        return self.inputs.shape[1]

    @property
    def seq_length(self) -> int:
        """Number of time steps ``T``."""
        return self.inputs.shape[0]

    @property
    def input_size(self) -> int:
        """Features per step ``F``."""
        return self.inputs.shape[2]

    @property
    def device(self) -> torch.device:
        """Where the tensors live."""
        return self.inputs.device

    def to(self, device: torch.device | str | None) -> SequenceDataset:
        """A copy on ``device`` (the same object when already there or None)."""
        if device is None or torch.device(device) == self.inputs.device:
            return self
        moved = {
            f.name: (getattr(self, f.name).to(device) if isinstance(getattr(self, f.name), Tensor)
                     else getattr(self, f.name))
            for f in fields(self)
        }
        return SequenceDataset(**moved)

    def subset(self, index: Tensor | slice) -> SequenceDataset:
        """The samples selected by ``index`` (along the sample axis).

        Shape:
            index ``(M,)`` (int64 indices or a bool mask of length ``N``) or a slice.
        """
        return SequenceDataset(
            inputs=self.inputs[:, index],
            targets=self.targets[:, index],
            mask=self.mask[:, index],
            steps=self.steps[:, index],
            task=self.task,
            num_outputs=self.num_outputs,
        )

    def marked_inputs(self) -> Tensor:
        """The inputs at the output steps (used by tests and sanity checks).

        Shape:
            ``(K, N, F)``.
        """
        index = self.steps.unsqueeze(-1).expand(-1, -1, self.input_size)
        return self.inputs.gather(0, index)


@dataclass
class Benchmark:
    """The train, validation and test sets of one benchmark, and its name."""

    name: str
    train: SequenceDataset
    val: SequenceDataset
    test: SequenceDataset


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _last_step(seq_length: int, count: int) -> tuple[Tensor, Tensor]:
    """Mask and steps of a single output at the last step."""
    mask = torch.zeros(seq_length, count, dtype=torch.bool)
    mask[-1] = True
    steps = torch.full((1, count), seq_length - 1, dtype=torch.long)
    return mask, steps


def copy_first_input(
    seq_length: int,
    num_samples: int = 40_000,
    seed: int = 0,
    device: torch.device | str | None = None,
) -> SequenceDataset:
    """The copy-first-input benchmark (paper, Section 4).

    ``x_t ~ N(0, 1)`` for ``t = 0 .. T-1``; the single output is read at the
    last step (right after receiving ``x_{T-1}``) and its target is ``x_0``.
    A network that forgets answers 0, the mean, and scores an MSE of about 1.

    Args:
        seq_length: ``T``, the number of steps (>= 1).
        num_samples: number of sequences (the paper: 40k train, 50k test).
        seed: seed of the ``torch.Generator`` (on the CPU) that draws the data.
        device: where the returned tensors live.

    Returns:
        A regression :class:`SequenceDataset` with ``F = O = K = 1``.

    Shape:
        inputs ``(T, N, 1)``; targets ``(1, N, 1)``; mask ``(T, N)``.
    """
    seq_length = _check_int("seq_length", seq_length, 1)
    num_samples = _check_int("num_samples", num_samples, 1)
    generator = torch.Generator().manual_seed(int(seed))
    inputs = torch.randn(seq_length, num_samples, 1, generator=generator)
    mask, steps = _last_step(seq_length, num_samples)
    data = SequenceDataset(inputs, inputs[:1].clone(), mask, steps, "regression", 1)
    return data.to(device)


def denoising(
    seq_length: int,
    delay: int,
    num_samples: int = 40_000,
    seed: int = 0,
    device: torch.device | str | None = None,
) -> SequenceDataset:
    """The denoising benchmark (paper, Section 4; Vecoven et al., 2020).

    Channel 0 is a N(0, 1) stream over all ``T`` steps. Channel 1 is a marker:
    1 at five distinct steps drawn uniformly in ``{0 .. T-N-1}`` (so no marked
    step lies in the last ``N`` steps), -1 at the last five steps, 0
    elsewhere. The targets are the stream values at the marked steps, in time
    order, output one per step at the last five steps.

    Args:
        seq_length: ``T`` (the paper: 200).
        delay: ``N``, the number of final steps that carry no marked value
            (the paper: 5 and 100). Needs ``5 <= N <= T - 5`` so that the
            marked and output steps never overlap and five steps can be drawn.
        num_samples: number of sequences.
        seed: seed of the CPU ``torch.Generator`` that draws the data.
        device: where the returned tensors live.

    Returns:
        A regression :class:`SequenceDataset` with ``F = 2``, ``K = 5``, ``O = 1``.

    Shape:
        inputs ``(T, N, 2)``; targets ``(5, N, 1)``; mask ``(T, N)``.
    """
    seq_length = _check_int("seq_length", seq_length, 2 * DENOISING_MARKED)
    delay = _check_int("delay", delay, DENOISING_MARKED)
    num_samples = _check_int("num_samples", num_samples, 1)
    if delay > seq_length - DENOISING_MARKED:
        raise ValueError(
            f"delay must be <= seq_length - {DENOISING_MARKED} = {seq_length - DENOISING_MARKED} "
            f"so that {DENOISING_MARKED} steps can be marked, got {delay}"
        )
    generator = torch.Generator().manual_seed(int(seed))
    stream = torch.randn(seq_length, num_samples, generator=generator)
    keys = torch.rand(num_samples, seq_length - delay, generator=generator)
    marked = keys.topk(DENOISING_MARKED, dim=1).indices.sort(dim=1).values.t()  # (5, N)
    marker = torch.zeros(seq_length, num_samples)
    marker.scatter_(0, marked, 1.0)
    marker[-DENOISING_MARKED:] = -1.0
    inputs = torch.stack([stream, marker], dim=-1)
    targets = stream.gather(0, marked).unsqueeze(-1)
    mask = torch.zeros(seq_length, num_samples, dtype=torch.bool)
    mask[-DENOISING_MARKED:] = True
    out_steps = torch.arange(seq_length - DENOISING_MARKED, seq_length).unsqueeze(1)
    out_steps = out_steps.expand(-1, num_samples).clone()
    return SequenceDataset(inputs, targets, mask, out_steps, "regression", 1).to(device)


def pixel_permutation(num_pixels: int = 784, seed: int = PERMUTATION_SEED) -> Tensor:
    """The fixed pixel order of permuted sequential images.

    ``numpy.random.RandomState(seed).permutation(num_pixels)``: stable across
    numpy and torch versions and platforms.

    Returns:
        An int64 permutation of ``0 .. num_pixels - 1``; step ``t`` shows pixel
        ``perm[t]`` of the row-major flattened image.
    """
    num_pixels = _check_int("num_pixels", num_pixels, 1)
    return torch.from_numpy(np.random.RandomState(seed).permutation(num_pixels).astype(np.int64))


def sequential_images(
    images: Tensor,
    labels: Tensor,
    permutation: Tensor | None = None,
    pad_length: int = 0,
    device: torch.device | str | None = None,
) -> SequenceDataset:
    """Images shown one pixel per step, the class read at the last step.

    Pixels are scaled to ``[0, 1]`` (divided by 255 for uint8 images), taken
    in row-major order or in the order ``permutation``, then ``pad_length``
    zero steps follow (to lengthen the memory span). The single output is read
    at the last step.

    Args:
        images: the images, uint8 (0..255) or float (already scaled).
        labels: class labels ``0 .. C-1``.
        permutation: pixel order, a permutation of ``0 .. P-1`` with
            ``P = rows * cols`` (see :func:`pixel_permutation`); None for the
            natural order.
        pad_length: trailing blank steps (>= 0).
        device: where the returned tensors live.

    Returns:
        A classification :class:`SequenceDataset`; ``num_outputs`` is
        ``max(labels) + 1`` (at least 10).

    Shape:
        images ``(N, rows, cols)``; labels ``(N,)``; inputs
        ``(rows * cols + pad_length, N, 1)``; targets ``(1, N)``.
    """
    if images.dim() != 3:
        raise ValueError(f"images must be (N, rows, cols), got {tuple(images.shape)}")
    if labels.shape != (images.shape[0],):
        raise ValueError(f"labels must have shape ({images.shape[0]},), got {tuple(labels.shape)}")
    pad_length = _check_int("pad_length", pad_length, 0)
    count = images.shape[0]
    target_device = torch.device(device) if device is not None else images.device
    pixels = _scaled_pixels(images.reshape(count, -1), permutation, target_device)
    num_pixels = pixels.shape[1]
    seq_length = num_pixels + pad_length
    inputs = torch.zeros(seq_length, count, 1, device=target_device)
    inputs[:num_pixels, :, 0] = pixels.t()
    mask, steps = _last_step(seq_length, count)
    labels = labels.long()
    num_classes = max(int(labels.max()) + 1 if count else 0, 10)
    return SequenceDataset(
        inputs, labels.unsqueeze(0).to(target_device), mask.to(target_device),
        steps.to(target_device), "classification", num_classes,
    )


def _scaled_pixels(pixels: Tensor, permutation: Tensor | None, device: torch.device) -> Tensor:
    """Flattened images in the order ``permutation``, on ``device``, as float32 in ``[0, 1]``.

    Shape:
        pixels ``(N, P)``; permutation ``(P,)``; returns ``(N, P)``.
    """
    num_pixels = pixels.shape[1]
    if permutation is not None:
        permutation = torch.as_tensor(permutation, dtype=torch.long)
        if permutation.shape != (num_pixels,) or not torch.equal(
            permutation.sort().values, torch.arange(num_pixels)
        ):
            raise ValueError(f"permutation must be a permutation of 0..{num_pixels - 1}")
        pixels = pixels[:, permutation]
    pixels = pixels.to(device)
    if pixels.dtype == torch.uint8:
        return pixels.float().div_(255.0)
    return pixels.float()


def make_benchmark(
    name: str,
    seq_length: int | None = None,
    delay: int = 100,
    pad_length: int = 0,
    train_size: int | None = None,
    val_size: int | None = None,
    test_size: int | None = None,
    seed: int = 0,
    data_dir: str | os.PathLike | None = None,
    device: torch.device | str | None = None,
) -> Benchmark:
    """Builds the train, validation and test sets of a benchmark.

    Synthetic benchmarks (``copy``, ``denoising``) draw three independent sets
    from :func:`split_seed` ``(seed, split)``: the paper's sizes are 40k train
    and 50k test; the validation set (default 4k) is drawn separately, so
    training uses all of its samples. Image benchmarks (``smnist``,
    ``psmnist``) use the standard train and test files; the validation set is
    the last ``val_size`` (default 5k) samples of a seed-independent shuffle
    (seed 0) of the training file, the rest is the training set.
    ``train_size`` / ``test_size`` truncate the image sets (for quick runs).

    Args:
        name: one of :data:`BENCHMARKS`.
        seq_length: ``T`` for ``copy`` (default 300) and ``denoising``
            (default 200); ignored for images.
        delay: ``N`` for ``denoising``.
        pad_length: trailing blank steps for images.
        train_size, val_size, test_size: set sizes (defaults above).
        seed: data seed.
        data_dir: IDX directory for images (see :func:`warm_rl.suite.idx.locate_idx_dir`).
        device: where every tensor lives.

    Returns:
        A :class:`Benchmark`.

    Raises:
        ValueError: unknown benchmark or bad sizes.
        FileNotFoundError: image data missing (with instructions).
    """
    if name not in BENCHMARKS:
        raise ValueError(f"benchmark must be one of {BENCHMARKS}, got {name!r}")
    if name in ("copy", "denoising"):
        sizes = {
            "train": 40_000 if train_size is None else train_size,
            "val": 4_000 if val_size is None else val_size,
            "test": 50_000 if test_size is None else test_size,
        }
        sets = {
            split: _synthetic_set(name, seq_length, delay, size, split_seed(seed, split), device)
            for split, size in sizes.items()
        }
        return Benchmark(name, sets["train"], sets["val"], sets["test"])
    return _image_benchmark(name, pad_length, train_size, val_size, test_size, data_dir, device)


def _synthetic_set(
    name: str,
    seq_length: int | None,
    delay: int,
    size: int,
    seed: int,
    device: torch.device | str | None,
) -> SequenceDataset:
    """One split of ``copy`` (default ``T = 300``) or ``denoising`` (default ``T = 200``)."""
    if name == "copy":
        return copy_first_input(300 if seq_length is None else seq_length, size, seed, device)
    return denoising(200 if seq_length is None else seq_length, delay, size, seed, device)


def _image_benchmark(
    name: str,
    pad_length: int,
    train_size: int | None,
    val_size: int | None,
    test_size: int | None,
    data_dir: str | os.PathLike | None,
    device: torch.device | str | None,
) -> Benchmark:
    """``smnist`` / ``psmnist`` from the IDX files (arguments of :func:`make_benchmark`)."""
    train_images, train_labels = load_idx_split("train", data_dir)
    test_images, test_labels = load_idx_split("test", data_dir)
    val_size = 5_000 if val_size is None else _check_int("val_size", val_size, 1)
    if val_size >= len(train_labels):
        raise ValueError(f"val_size must be < {len(train_labels)}, got {val_size}")
    order = torch.randperm(len(train_labels), generator=torch.Generator().manual_seed(0))
    train_index, val_index = order[:-val_size], order[-val_size:]
    if train_size is not None:
        train_index = train_index[: _check_int("train_size", train_size, 1)]
    if test_size is not None:
        test_images = test_images[: _check_int("test_size", test_size, 1)]
        test_labels = test_labels[:test_size]
    permutation = pixel_permutation(train_images[0].numel()) if name == "psmnist" else None

    def build(images: Tensor, labels: Tensor) -> SequenceDataset:
        return sequential_images(images, labels, permutation, pad_length, device)

    return Benchmark(
        name,
        build(train_images[train_index], train_labels[train_index]),
        build(train_images[val_index], train_labels[val_index]),
        build(test_images, test_labels),
    )
