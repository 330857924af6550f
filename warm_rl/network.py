"""`RecurrentNet`: a stack of recurrent layers with the ``nn.LSTM`` calling convention."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from warm_rl.cells import CELL_NAMES, make_layer
from warm_rl.double_layer import DoubleLayer
from warm_rl.segments import SegmentLayout
from warm_rl.validation import check_bool, check_choice, check_dtype, check_int

State = tuple[Tensor, Tensor]


class RecurrentNet(nn.Module):
    """A sequence-first stack of recurrent layers, usable where ``nn.LSTM`` is.

    ``out, (h, c) = net(x, (h0, c0))`` as with ``nn.LSTM``; the state is
    optional (zeros). Cells with a single state (GRU, MGU, BRC, nBRC) carry
    ``c`` through unchanged, so code written for ``nn.LSTM`` works as it is.

    With ``double=True`` every layer is two independent cells of width
    ``hidden_size / 2`` fed the same input; outputs and states are
    ``[warm half, cold half]`` and warm-up trains only the warm halves.

    Args:
        cell: one of ``"lstm"``, ``"gru"``, ``"mgu"``, ``"brc"``, ``"nbrc"``,
            ``"chrono"``.
        input_size: features of each input step.
        hidden_size: width of every layer (even when ``double``).
        num_layers: number of stacked layers.
        double: build double layers.
        **cell_kwargs: ``t_max`` for ``"chrono"``.

    Attributes:
        layers: the :class:`~warm_rl.cells.RecurrentLayer` of each depth.
        warmed_up: set by :func:`warm_rl.warm_up` once it succeeded; LSC
            pre-training then trains only the cold halves of a double network
            (not saved in the state dict: a policy keeps its own flag).

    Example:
        >>> net = RecurrentNet("gru", input_size=3, hidden_size=8, num_layers=2)
        >>> out, (h, c) = net(torch.zeros(5, 4, 3))
        >>> out.shape, h.shape
        (torch.Size([5, 4, 8]), torch.Size([2, 4, 8]))
    """

    def __init__(
        self,
        cell: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        double: bool = False,
        **cell_kwargs,
    ) -> None:
        super().__init__()
        check_choice("cell", cell, CELL_NAMES)
        input_size = check_int("input_size", input_size, minimum=1)
        hidden_size = check_int("hidden_size", hidden_size, minimum=1)
        num_layers = check_int("num_layers", num_layers, minimum=1)
        double = check_bool("double", double)
        if double and hidden_size % 2:
            raise ValueError(f"double=True needs an even hidden_size, got {hidden_size}")
        self.cell = cell
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.double = double
        self.cell_kwargs = dict(cell_kwargs)
        sizes = [input_size] + [hidden_size] * (num_layers - 1)
        if self.double:
            layers = [DoubleLayer(cell, size, hidden_size, **cell_kwargs) for size in sizes]
        else:
            layers = [make_layer(cell, size, hidden_size, **cell_kwargs) for size in sizes]
        self.layers = nn.ModuleList(layers)
        self.warmed_up = False

    # ------------------------------------------------------------------ info
    @property
    def has_cell_state(self) -> bool:
        """Whether ``c`` is part of the dynamics (LSTM and chrono-LSTM)."""
        return self.layers[0].has_cell_state

    def warm_parameters(self) -> list[list[nn.Parameter]]:
        """The parameters warm-up trains, per layer (warm halves when ``double``)."""
        return [list(layer.warm_module.parameters()) for layer in self.layers]

    def reset_parameters(self) -> None:
        for layer in self.layers:
            layer.reset_parameters()

    def extra_repr(self) -> str:
        return (
            f"cell={self.cell!r}, input_size={self.input_size}, hidden_size={self.hidden_size}, "
            f"num_layers={self.num_layers}, double={self.double}"
        )

    def zero_state(self, batch: int, device=None, dtype=None) -> State:
        """Zero ``(h, c)``, each of shape ``(num_layers, batch, hidden_size)``."""
        shape = (self.num_layers, batch, self.hidden_size)
        zeros = torch.zeros(shape, device=device, dtype=dtype)
        return zeros, zeros.clone()

    # --------------------------------------------------------------- forward
    def forward(
        self,
        x: Tensor | PackedSequence,
        state: State | Tensor | None = None,
        lengths: Tensor | None = None,
        reset_mask: Tensor | None = None,
    ) -> tuple[Tensor | PackedSequence, State]:
        """Runs the stack over a batch of sequences.

        Args:
            x: the inputs, or a ``PackedSequence`` (then the output is packed too).
            state: ``(h0, c0)``, or ``h0`` alone; zeros if None.
            lengths: valid steps of each sequence; outputs past a sequence's end
                are zero and its final state is taken at its last valid step.
            reset_mask: true (or 1.0) where the state is reset to zero *before*
                step ``t`` (episode starts), so a batch of trajectories with
                resets in the middle runs in one call.

        Returns:
            ``(out, (h, c))``.

        Shape:
            x ``(T, B, input_size)`` or unbatched ``(T, input_size)``;
            h0, c0 ``(num_layers, B, hidden_size)`` (``(num_layers, hidden_size)``
            unbatched); lengths ``(B,)``; reset_mask ``(T, B)``;
            out ``(T, B, hidden_size)``.
        """
        if isinstance(x, PackedSequence):
            if lengths is not None:
                raise ValueError("pass either a PackedSequence or lengths, not both")
            padded, lengths = pad_packed_sequence(x)
            out, new_state = self.forward(padded, state, lengths, reset_mask)
            return pack_padded_sequence(out, lengths, enforce_sorted=False), new_state
        if not isinstance(x, Tensor):
            raise TypeError(f"x must be a Tensor or PackedSequence, got {type(x).__name__}")
        if x.dim() == 2:
            if reset_mask is not None:
                reset_mask = reset_mask.unsqueeze(1)
            if state is not None:
                state = tuple(s.unsqueeze(1) for s in state) if isinstance(state, tuple) else (
                    state.unsqueeze(1)
                )
            lengths = None if lengths is None else torch.as_tensor(lengths).reshape(1)
            out, (h, c) = self.forward(x.unsqueeze(1), state, lengths, reset_mask)
            return out.squeeze(1), (h.squeeze(1), c.squeeze(1))
        if x.dim() != 3:
            raise ValueError(f"x must have shape (T, B, input_size), got {tuple(x.shape)}")
        if x.shape[-1] != self.input_size:
            raise ValueError(
                f"x.size(-1) must be equal to input_size. Expected {self.input_size}, "
                f"got {x.shape[-1]}"
            )
        steps, batch = x.shape[:2]
        if steps == 0:
            raise ValueError(f"x has T = 0 steps (shape {tuple(x.shape)}); every call needs T >= 1")
        x = self._check_dtype(x)
        h0, c0 = self._initial_state(state, batch, x)
        lengths = self._check_lengths(lengths, steps, batch)
        if reset_mask is not None:
            reset_mask = self._check_reset_mask(reset_mask, steps, batch, x.device)
            if bool(reset_mask[1:].any()):
                return self._forward_segments(x, (h0, c0), lengths, reset_mask)
            keep = (~reset_mask[0]).to(x.dtype).view(1, batch, 1)
            h0, c0 = h0 * keep, c0 * keep
        return self._forward_stack(x, (h0, c0), lengths)

    def _forward_stack(self, x: Tensor, state: State, lengths: Tensor | None) -> tuple[Tensor, State]:
        h0, c0 = state
        hs, cs = [], []
        out = x
        for depth, layer in enumerate(self.layers):
            out, (h, c) = layer(out, (h0[depth], c0[depth]), lengths)
            hs.append(h)
            cs.append(c)
        return out, (torch.stack(hs), torch.stack(cs))

    def _forward_segments(
        self, x: Tensor, state: State, lengths: Tensor | None, reset_mask: Tensor
    ) -> tuple[Tensor, State]:
        layout = SegmentLayout.build(reset_mask, lengths)
        seg_state = (layout.initial_state(state[0]), layout.initial_state(state[1]))
        seg_out, (h, c) = self._forward_stack(layout.scatter(x), seg_state, layout.lengths)
        return layout.gather(seg_out, x.shape[1]), (layout.final_state(h), layout.final_state(c))

    # ------------------------------------------------------------ validation
    def _check_dtype(self, x: Tensor) -> Tensor:
        """``x`` in the parameters' dtype: integer (and bool) inputs are cast, other float dtypes refused."""
        dtype = next(self.parameters()).dtype
        if not x.is_floating_point() and not x.is_complex():
            return x.to(dtype)
        check_dtype("x", x, dtype, "the network")
        return x

    def _initial_state(self, state: State | Tensor | None, batch: int, x: Tensor) -> State:
        expected = (self.num_layers, batch, self.hidden_size)
        if state is None:
            return self.zero_state(batch, x.device, x.dtype)
        if isinstance(state, Tensor):
            state = (state, torch.zeros_like(state))
        if not isinstance(state, (tuple, list)) or len(state) != 2:
            raise TypeError("state must be (h0, c0), a tensor h0, or None")
        for name, tensor in zip(("h0", "c0"), state, strict=True):
            if not isinstance(tensor, Tensor):
                raise TypeError(f"{name} must be a Tensor, got {type(tensor).__name__}")
            check_dtype(name, tensor, x.dtype, "the input x (and the network)")
            if tuple(tensor.shape) != expected:
                raise ValueError(f"{name} must have shape {expected}, got {tuple(tensor.shape)}")
        return state[0], state[1]

    @staticmethod
    def _check_lengths(lengths: Tensor | None, steps: int, batch: int) -> Tensor | None:
        if lengths is None:
            return None
        lengths = torch.as_tensor(lengths)
        if lengths.dtype == torch.bool or lengths.is_floating_point() or lengths.is_complex():
            raise TypeError(f"lengths must be integers, got dtype {lengths.dtype}: {lengths.tolist()}")
        if lengths.shape != (batch,):
            raise ValueError(f"lengths must have shape ({batch},), got {tuple(lengths.shape)}")
        if bool((lengths < 1).any()) or bool((lengths > steps).any()):
            raise ValueError(f"lengths must lie in [1, {steps}], got {lengths.tolist()}")
        return lengths.long()

    @staticmethod
    def _check_reset_mask(mask: Tensor, steps: int, batch: int, device) -> Tensor:
        mask = torch.as_tensor(mask, device=device)
        if mask.shape != (steps, batch):
            raise ValueError(
                f"reset_mask must have shape ({steps}, {batch}), got {tuple(mask.shape)}"
            )
        if mask.dtype == torch.bool:
            return mask
        if mask.is_complex():
            raise TypeError(f"reset_mask must be boolean or 0/1 valued, got dtype {mask.dtype}")
        binary = (mask == 0) | (mask == 1)
        if not bool(binary.all()):  # one check, only for a non-bool mask
            bad = mask[~binary].unique()[:5].tolist()
            raise ValueError(f"reset_mask must be boolean or 0/1 valued, got value(s) {bad} (dtype {mask.dtype})")
        return mask.bool()
