"""Several models of one shape run as one: the members of a batched training run.

A table of the paper is a grid of small runs that differ only in their seed and
pre-training mode (the same cell, width and depth). :class:`BatchedModels` runs
``K`` such :class:`~warm_rl.suite.trainer.SequenceModel` members in a single
forward pass, each on its own input sequences: every layer's input projections
of all members are one batched product, and one time loop advances all members
at once, its recurrent products batched over the members (``torch.baddbmm`` on
``(K, B, H)`` states and ``(K, H, g * H)`` weights, which costs the members' own
arithmetic, no more). The loop is plain torch (autograd differentiates it); it
saves the per-step overhead of ``K`` separate loops, which is what a narrow layer's
step costs on a GPU. On a CPU, where that step is arithmetic and the members' own
loops are TorchScript scans with hand-written backward passes, it does not pay
(0.55-1.14x of separate runs measured on 2 cores: ``results/batched_speed/``,
``scripts/speed_batched.py``). Nothing couples the
members: the stacked weights are rebuilt from the members' own parameters on
every pass, so the gradient of member ``k``'s loss reaches member ``k``'s
parameters only, and training the sum of the members' losses with one
optimiser per member is training each member on its own
(:func:`warm_rl.suite.batched_trainer.train_batched`).

Members may mix double and single layers: a double layer enters as its two
halves merged into one layer with block-diagonal recurrent weights
(:func:`warm_rl.scan_parts.merge_scan_parts`, as it runs on a CPU anyway).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from warm_rl.cells import RecurrentLayer, TorchRNNLayer
from warm_rl.double_layer import DoubleLayer
from warm_rl.scan_parts import ScanParts, merge_scan_parts
from warm_rl.torchscript_scans import brc_scan, gru_scan, mgu_scan, nbrc_scan


def layer_parts(layer: RecurrentLayer, device: torch.device) -> ScanParts:
    """A layer as :class:`~warm_rl.scan_parts.ScanParts`, whatever runs it on its own.

    Layers backed by torch's kernels (LSTMs anywhere, GRUs on a GPU) get parts whose
    ``scan`` is None (torch's gate order and biases). A double layer's parts are its two halves merged (outputs
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


def _gru_steps(x_proj: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor) -> list[Tensor]:
    """torch's GRU (gates r, z, n). Shape: x_proj ``(T, K, B, 3H)``, h ``(K, B, H)``, w_hh ``(K, 3H, H)``,
    b_hh ``(K, 3H)``."""
    hidden = h.shape[-1]
    w_t, bias = w_hh.transpose(1, 2), b_hh.unsqueeze(1)
    out = []
    for x_t in x_proj.unbind(0):
        gh = torch.baddbmm(bias, h, w_t)
        x_rz, x_n = x_t.split([2 * hidden, hidden], -1)
        gh_rz, gh_n = gh.split([2 * hidden, hidden], -1)
        r, z = torch.sigmoid(x_rz + gh_rz).chunk(2, -1)
        h = torch.lerp(torch.tanh(x_n + r * gh_n), h, z)
        out.append(h)
    return out


def _lstm_steps(x_proj: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor) -> list[Tensor]:
    """torch's LSTM (gates i, f, g, o) from a zero cell state. Shape: as :func:`_gru_steps` with 4H."""
    w_t, bias = w_hh.transpose(1, 2), b_hh.unsqueeze(1)
    c = torch.zeros_like(h)
    out = []
    for x_t in x_proj.unbind(0):
        i, f, g, o = (x_t + torch.baddbmm(bias, h, w_t)).chunk(4, -1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        out.append(h)
    return out


def _mgu_steps(x_proj: Tensor, h: Tensor, u_f: Tensor, u_h: Tensor) -> list[Tensor]:
    """The MGU of :func:`warm_rl.torchscript_scans.mgu_scan`. Shape: x_proj ``(T, K, B, 2H)``, u_f, u_h
    ``(K, H, H)``."""
    u_f_t, u_h_t = u_f.transpose(1, 2), u_h.transpose(1, 2)
    out = []
    for x_t in x_proj.unbind(0):
        x_f, x_h = x_t.chunk(2, -1)
        f = torch.sigmoid(torch.baddbmm(x_f, h, u_f_t))
        h = torch.lerp(h, torch.tanh(torch.baddbmm(x_h, f * h, u_h_t)), f)
        out.append(h)
    return out


def _brc_update(x_t: Tensor, h: Tensor, pre_c: Tensor, pre_a: Tensor) -> Tensor:
    """``h' = c h + (1 - c) tanh(xh + a h)`` of the BRC and nBRC."""
    c = torch.sigmoid(pre_c)
    a = 1.0 + torch.tanh(pre_a)
    return torch.lerp(torch.tanh(x_t + a * h), h, c)


def _brc_steps(x_proj: Tensor, h: Tensor, w_c: Tensor, w_a: Tensor) -> list[Tensor]:
    """The BRC of :func:`warm_rl.torchscript_scans.brc_scan`. Shape: x_proj ``(T, K, B, 3H)``, w_c, w_a
    ``(K, H)``."""
    w_c, w_a = w_c.unsqueeze(1), w_a.unsqueeze(1)
    out = []
    for x_t in x_proj.unbind(0):
        x_c, x_a, x_h = x_t.chunk(3, -1)
        h = _brc_update(x_h, h, x_c + w_c * h, x_a + w_a * h)
        out.append(h)
    return out


def _nbrc_steps(x_proj: Tensor, h: Tensor, w_ca: Tensor) -> list[Tensor]:
    """The nBRC of :func:`warm_rl.torchscript_scans.nbrc_scan`. Shape: x_proj ``(T, K, B, 3H)``, w_ca
    ``(K, 2H, H)``."""
    w_t = w_ca.transpose(1, 2)
    out = []
    for x_t in x_proj.unbind(0):
        x_c, x_a, x_h = x_t.chunk(3, -1)
        ca_c, ca_a = torch.bmm(h, w_t).chunk(2, -1)
        h = _brc_update(x_h, h, x_c + ca_c, x_a + ca_a)
        out.append(h)
    return out


STEPS: dict[object, Callable[..., list[Tensor]]] = {
    gru_scan: _gru_steps, mgu_scan: _mgu_steps, brc_scan: _brc_steps, nbrc_scan: _nbrc_steps,
    ("torch", 4): _lstm_steps, ("torch", 3): _gru_steps,
}
"""A layer's scan (or ``("torch", gates)`` for torch's LSTM / GRU kernels) -> its member-batched time loop."""


def _steps_of(parts: ScanParts) -> Callable[..., list[Tensor]]:
    return STEPS[("torch", parts.gates) if parts.scan is None else parts.scan]


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
        if inputs.dim() != 4:
            raise ValueError(f"inputs must be (T, B, K, F), got shape {tuple(inputs.shape)}")
        _, batch, members, _ = inputs.shape
        if members != len(self.members):
            raise ValueError(f"inputs carry {members} members (dim 2), the batch has {len(self.members)}")
        if steps.dim() != 3 or tuple(steps.shape[1:]) != (batch, members):
            raise ValueError(f"steps must be (S, {batch}, {members}), got shape {tuple(steps.shape)}")
        out = inputs
        for depth in range(self.num_layers):
            out = self._layer(depth, out)  # (T, B, K, H)
        index = steps.unsqueeze(-1).expand(-1, -1, -1, self.hidden_size)
        picked = out.gather(0, index)  # (S, B, K, H)
        weight = torch.stack([m.readout.weight for m in self.members])  # (K, O, H)
        bias = torch.stack([m.readout.bias for m in self.members])  # (K, O)
        return torch.einsum("sbkh,koh->sbko", picked, weight) + bias

    def _layer(self, depth: int, x: Tensor) -> Tensor:
        """One depth of every member, from zero states. Shape: x ``(T, B, K, F)`` -> ``(T, B, K, H)``."""
        parts = [layer_parts(m.rnn.layers[depth], x.device) for m in self.members]
        weight = torch.stack([p.w_in for p in parts])  # (K, G * H, F)
        bias = torch.stack([p.b_in for p in parts]).unsqueeze(1)  # (K, 1, G * H)
        x_proj = torch.einsum("tbkf,kgf->tkbg", x, weight) + bias  # (T, K, B, G * H)
        recurrent = [torch.stack(tensors) for tensors in zip(*[[t for t, _, _ in p.recurrent] for p in parts],
                                                              strict=True)]
        h0 = x.new_zeros(x.shape[2], x.shape[1], self.hidden_size)  # (K, B, H)
        states = _steps_of(parts[0])(x_proj, h0, *recurrent)
        return torch.stack(states).transpose(1, 2)  # (T, B, K, H)


def _shape(model: nn.Module) -> tuple:
    """What members must share: the kind of kernel that runs them, widths, depth, sizes."""
    rnn = model.rnn
    kind = "lstm" if rnn.has_cell_state else rnn.cell
    return (kind, rnn.input_size, rnn.hidden_size, rnn.num_layers, model.readout.out_features)
