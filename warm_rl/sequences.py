"""Validation and padding of the sequence sets fed to VAA and warm-up."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch.nn.utils.rnn import pad_sequence

from warm_rl.validation import check_dtype

SequenceSet = Sequence[Tensor] | tuple[Tensor, Tensor]
"""A list of ``(len_i, input_size)`` tensors, or ``(padded (T, N, input_size), lengths (N,))``."""


def as_padded(
    sequences: SequenceSet,
    input_size: int,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
) -> tuple[Tensor, Tensor]:
    """Checks a sequence set and returns it padded, sequence-first.

    Args:
        sequences: a non-empty list of ``(len_i, input_size)`` tensors of any
            lengths >= 1, or a tuple ``(padded, lengths)``.
        input_size: the feature size the network expects.
        device: where to put the result (default: where the data is).
        dtype: the network's float dtype: integer (and bool) sequences are cast to
            it, float sequences of another dtype are refused (default: float32 for
            integer sequences, float ones kept as they are).

    Returns:
        ``(padded, lengths)``: float tensors padded with zeros, and int64 lengths.

    Raises:
        TypeError: not a list of tensors nor a ``(padded, lengths)`` tuple, lengths
            that are not integers, or float sequences of a dtype other than ``dtype``.
        ValueError: empty set, a sequence of length 0, a wrong feature size, or
            a non-finite value.

    Shape:
        padded ``(T, N, input_size)``; lengths ``(N,)``.
    """
    if isinstance(sequences, tuple) and len(sequences) == 2 and _is_padded_pair(sequences):
        padded, lengths = sequences
        lengths = torch.as_tensor(lengths)
        if lengths.dtype == torch.bool or lengths.is_floating_point() or lengths.is_complex():
            raise TypeError(f"lengths must be integers, got dtype {lengths.dtype}: {lengths.tolist()}")
        lengths = lengths.long()
        if padded.dim() != 3:
            raise ValueError(f"padded sequences must be (T, N, input_size), got {tuple(padded.shape)}")
        if lengths.shape != (padded.shape[1],):
            raise ValueError(
                f"lengths must have shape ({padded.shape[1]},), got {tuple(lengths.shape)}"
            )
        if padded.shape[1] == 0:
            raise ValueError("sequences is empty: need at least one sequence")
        if bool((lengths < 1).any()) or bool((lengths > padded.shape[0]).any()):
            raise ValueError(f"every length must lie in [1, {padded.shape[0]}], got {lengths.tolist()}")
    elif isinstance(sequences, Tensor):
        raise TypeError(
            "sequences must be a list of (len_i, input_size) tensors or a tuple "
            "(padded, lengths); got a single tensor"
        )
    else:
        sequences = list(sequences)
        if not sequences:
            raise ValueError("sequences is empty: need at least one sequence")
        for index, seq in enumerate(sequences):
            if not isinstance(seq, Tensor):
                raise TypeError(f"sequences[{index}] must be a Tensor, got {type(seq).__name__}")
            if seq.dim() != 2:
                raise ValueError(
                    f"sequences[{index}] must have shape (len, input_size), got {tuple(seq.shape)}"
                )
            if seq.shape[0] == 0:
                raise ValueError(f"sequences[{index}] has length 0; every sequence needs >= 1 step")
        lengths = torch.tensor([seq.shape[0] for seq in sequences], dtype=torch.long)
        if dtype is not None:
            for index, seq in enumerate(sequences):
                if seq.is_floating_point():
                    check_dtype(f"sequences[{index}]", seq, dtype, "the network")
        cast = dtype or torch.float32
        padded = pad_sequence([seq if seq.is_floating_point() else seq.to(cast) for seq in sequences])
    if padded.shape[-1] != input_size:
        raise ValueError(
            f"sequences have {padded.shape[-1]} features, the network expects input_size={input_size}"
        )
    if padded.is_complex():
        raise TypeError(f"sequences must be real, got dtype {padded.dtype}")
    if not padded.is_floating_point():
        padded = padded.to(dtype or torch.float32)
    if dtype is not None:
        check_dtype("sequences", padded, dtype, "the network")
    if not bool(torch.isfinite(padded).all()):
        raise ValueError("sequences contain non-finite values (nan or inf)")
    if device is not None:
        padded, lengths = padded.to(device), lengths.to(device)
    return padded, lengths.to(padded.device)


def _is_padded_pair(pair: tuple) -> bool:
    """A 3-D first element marks the ``(padded, lengths)`` form (sequences are 2-D)."""
    return isinstance(pair[0], Tensor) and pair[0].dim() == 3
