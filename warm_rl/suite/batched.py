"""Several models of one shape run as one: the members of a batched training run.

A table of the paper is a grid of small runs that differ only in their seed and
pre-training mode (the same cell, width and depth). :class:`BatchedModels` runs
``K`` such :class:`~warm_rl.suite.trainer.SequenceModel` members in a single
forward pass, each on its own input sequences, the way a double layer already runs
its two halves (:func:`warm_rl.scan_parts.merge_scan_parts`): the members' layers
become one layer of ``K`` times the width whose recurrent weights are
block-diagonal per gate, so one time loop (one TorchScript scan, or one call of
torch's LSTM / GRU kernel) serves all of them. Nothing couples the members: the
block-diagonal weights are rebuilt from the members' own parameters on every
pass, so the gradient of member ``k``'s loss reaches member ``k``'s parameters
only, and training the sum of the members' losses with one optimiser per member
is training each member on its own (:func:`warm_rl.suite.batched_trainer.train_batched`).

Members may mix double and single layers (a double layer is one block-diagonal
layer already). The price is arithmetic: the merged recurrent matmul does ``K``
times the work of the members' own ones, so the saving is the per-step overhead
of ``K`` separate loops - large for narrow layers on a CPU, absent for wide ones
(``scripts/batched_speed.py`` measures it).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from warm_rl.cells import RecurrentLayer, TorchRNNLayer
from warm_rl.double_layer import DoubleLayer
from warm_rl.scan_parts import ScanParts, merge_scan_parts


def _per_gate_block_diagonal(matrices: Sequence[Tensor], gates: int) -> Tensor:
    """Per gate, the members' blocks on the diagonal.

    Shape:
        each matrix ``(gates * R_k, C_k)``; returns ``(gates * sum R_k, sum C_k)``.
    """
    per_gate = [m.reshape(gates, m.shape[0] // gates, m.shape[1]) for m in matrices]
    blocks = [torch.block_diag(*[m[gate] for m in per_gate]) for gate in range(gates)]
    return torch.cat(blocks, 0)


def _per_gate_concat(tensors: Sequence[Tensor], gates: int) -> Tensor:
    """Per gate, the members' rows one after the other (along the last dimension).

    Shape:
        each tensor ``(..., gates * R_k)``; returns ``(..., gates * sum R_k)``.
    """
    per_gate = [t.reshape(*t.shape[:-1], gates, t.shape[-1] // gates) for t in tensors]
    merged = torch.cat(per_gate, -1)
    return merged.reshape(*merged.shape[:-2], -1)


def layer_parts(layer: RecurrentLayer, device: torch.device) -> ScanParts:
    """A layer as :class:`~warm_rl.scan_parts.ScanParts`, whatever runs it on its own.

    Layers backed by torch's kernels (LSTMs anywhere, GRUs on a GPU) get parts whose
    ``scan`` is None: :class:`BatchedModels` runs them with ``torch.lstm`` /
    ``torch.gru``. A double layer's parts are its two halves merged (outputs
    ``[warm, cold]``, as the layer itself returns them).
    """
    if isinstance(layer, DoubleLayer):
        return merge_scan_parts(layer_parts(layer.warm, device), layer_parts(layer.cold, device))
    parts = layer.scan_parts(device)
    if parts is not None:
        return parts
    if not isinstance(layer, TorchRNNLayer):
        raise TypeError(f"cannot batch a layer of type {type(layer).__name__}")
    rnn = layer.rnn
    gates = 4 if layer.has_cell_state else 3
    return ScanParts(
        None, gates, rnn.weight_ih_l0, rnn.bias_ih_l0,
        [(rnn.weight_hh_l0, "gate_matrix", gates), (rnn.bias_hh_l0, "gate_bias", gates)],
    )


def merge_members(parts: Sequence[ScanParts]) -> list[tuple[Tensor, str, int]]:
    """The recurrent arguments of one scan running every member's layer side by side.

    Returns:
        The merged ``recurrent`` list (see :class:`~warm_rl.scan_parts.ScanParts`):
        block-diagonal gate matrices, per-gate concatenated biases, concatenated vectors.
    """
    merged = []
    for group in zip(*[p.recurrent for p in parts], strict=True):
        tensors = [tensor for tensor, _, _ in group]
        _, kind, gates = group[0]
        if kind == "gate_matrix":
            merged.append((_per_gate_block_diagonal(tensors, gates), kind, gates))
        elif kind == "gate_bias":
            merged.append((_per_gate_concat(tensors, gates), kind, gates))
        else:
            merged.append((torch.cat(tensors), kind, gates))
    return merged


def _run_torch_kernel(parts: Sequence[ScanParts], merged: list, x: Tensor) -> Tensor:
    """The members' torch-kernel layers (LSTM or GRU) as one call, from zero states.

    Shape:
        x ``(T, B, K * F)``; returns ``(T, B, K * H)``.
    """
    gates = parts[0].gates
    w_ih = _per_gate_block_diagonal([p.w_in for p in parts], gates)
    b_ih = _per_gate_concat([p.b_in for p in parts], gates)
    (w_hh, _, _), (b_hh, _, _) = merged
    width = w_hh.shape[1]
    h0 = x.new_zeros(1, x.shape[1], width)
    params = [w_ih, w_hh, b_ih, b_hh]
    if gates == 4:
        out, _, _ = torch.lstm(x, [h0, torch.zeros_like(h0)], params, True, 1, 0.0, False, False, False)
    else:
        out, _ = torch.gru(x, h0, params, True, 1, 0.0, False, False, False)
    return out


class BatchedModels(nn.Module):
    """``K`` sequence models of one shape, run as one.

    The members keep their own parameters (they are the submodules ``members``):
    optimise, save, measure (VAA) and test each as the model it is; this module only
    runs them together.

    Args:
        members: the models, all of the same cell kind, width, depth, input size and
            readout size (double and single layers may be mixed).

    Raises:
        ValueError: no members, or members of different shapes or cells.
    """

    def __init__(self, members: Sequence[nn.Module]) -> None:
        super().__init__()
        if len(members) == 0:
            raise ValueError("BatchedModels needs at least one member, got none")
        first = members[0]
        shape = _shape(first)
        for index, member in enumerate(members[1:], start=1):
            if _shape(member) != shape:
                raise ValueError(
                    f"member {index} has shape {_shape(member)}, member 0 has {shape}; "
                    "batched members need the same cell, width, depth, input and output sizes"
                )
        self.members = nn.ModuleList(members)
        self.hidden_size = first.rnn.hidden_size
        self.num_layers = first.rnn.num_layers

    def __len__(self) -> int:
        return len(self.members)

    def forward(self, inputs: Tensor, steps: Tensor) -> Tensor:
        """Every member's readout at its output steps, each on its own inputs.

        Args:
            inputs: member ``k``'s input sequences are ``inputs[:, :, k]``.
            steps: member ``k``'s output steps are ``steps[:, :, k]``.

        Returns:
            Member ``k``'s readout is ``result[:, :, k]``; it equals
            ``members[k](inputs[:, :, k], steps[:, :, k])`` (up to rounding).

        Shape:
            inputs ``(T, B, K, F)``; steps ``(S, B, K)``; returns ``(S, B, K, O)``.
        """
        steps_count, batch, members, _ = inputs.shape
        if members != len(self.members):
            raise ValueError(f"inputs carry {members} members (dim 2), the batch has {len(self.members)}")
        out = inputs
        for depth in range(self.num_layers):
            out = self._layer(depth, out)  # (T, B, K, H)
        index = steps.unsqueeze(-1).expand(-1, -1, -1, self.hidden_size)
        picked = out.gather(0, index)  # (S, B, K, H)
        weight = torch.stack([m.readout.weight for m in self.members])  # (K, O, H)
        bias = torch.stack([m.readout.bias for m in self.members])  # (K, O)
        return torch.einsum("sbkh,koh->sbko", picked, weight) + bias

    def _layer(self, depth: int, x: Tensor) -> Tensor:
        """One depth of every member. Shape: x ``(T, B, K, F)`` -> ``(T, B, K, H)``."""
        steps, batch, members, _ = x.shape
        parts = [layer_parts(m.rnn.layers[depth], x.device) for m in self.members]
        merged = merge_members(parts)
        if parts[0].scan is None:
            out = _run_torch_kernel(parts, merged, x.reshape(steps, batch, -1))
        else:
            weight = torch.stack([p.w_in for p in parts])  # (K, G * H, F)
            bias = torch.stack([p.b_in for p in parts])  # (K, G * H)
            x_proj = torch.einsum("tbkf,kgf->tbkg", x, weight) + bias
            x_proj = _per_gate_concat(list(x_proj.unbind(2)), parts[0].gates)  # (T, B, K * G * H)
            h0 = x.new_zeros(batch, members * self.hidden_size)
            out = parts[0].scan(x_proj, h0, *[tensor for tensor, _, _ in merged])
        return out.reshape(steps, batch, members, self.hidden_size)


def _shape(model: nn.Module) -> tuple:
    """What members must share: the kind of kernel that runs them, widths, depth, sizes."""
    rnn = model.rnn
    kind = "lstm" if rnn.has_cell_state else rnn.cell
    return (kind, rnn.input_size, rnn.hidden_size, rnn.num_layers, model.readout.out_features)
