"""The double layer: two independent cells of half width fed the same input, one warmed up."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from warm_rl.backends import merges_double_halves
from warm_rl.cells import RecurrentLayer, make_layer
from warm_rl.scan_parts import ScanParts, State, merge_scan_parts, run_scan


class DoubleLayer(RecurrentLayer):
    """Two independent cells of width ``hidden_size / 2`` fed the same input.

    The output and the state are the concatenation ``[warm, cold]``; warm-up
    trains only :attr:`warm` (the first half).

    Args:
        cell: one of :data:`CELL_NAMES`.
        input_size: features of each input step.
        hidden_size: total width, even.
        **cell_kwargs: as for :func:`make_layer`.
    """

    def __init__(self, cell: str, input_size: int, hidden_size: int, **cell_kwargs) -> None:
        super().__init__(input_size, hidden_size)  # checks both sizes
        if hidden_size % 2:
            raise ValueError(f"a double layer needs an even hidden_size, got {hidden_size}")
        half = hidden_size // 2
        self.warm = make_layer(cell, input_size, half, **cell_kwargs)
        self.cold = make_layer(cell, input_size, half, **cell_kwargs)
        self.cell = cell
        self.has_cell_state = self.warm.has_cell_state

    @property
    def warm_module(self) -> nn.Module:
        return self.warm

    @property
    def warm_slice(self) -> slice:
        return slice(0, self.hidden_size // 2)

    def reset_parameters(self) -> None:
        self.warm.reset_parameters()
        self.cold.reset_parameters()

    def _merged_parts(self, warm_parts: ScanParts, device: torch.device) -> ScanParts:
        """The merged scan of both halves; without autograd, reused until a parameter changes.

        Building the block-diagonal weights costs about as much as a one-step scan,
        so step-by-step inference (a policy's rollout) keeps them; any in-place
        update of a parameter (an optimizer step, ``load_state_dict``) bumps its
        version and so invalidates the cached copy.
        """
        cold_parts = self.cold.scan_parts(device)
        if torch.is_grad_enabled():
            return merge_scan_parts(warm_parts, cold_parts)
        sources = [warm_parts.w_in, warm_parts.b_in, cold_parts.w_in, cold_parts.b_in]
        sources += [tensor for tensor, _, _ in warm_parts.recurrent + cold_parts.recurrent]
        versions = [tensor._version for tensor in sources]
        cached = self.__dict__.get("_merged_cache")
        if cached is not None and cached[1] == versions and all(
            a is b for a, b in zip(cached[0], sources, strict=True)
        ):
            return cached[2]
        merged = merge_scan_parts(warm_parts, cold_parts)
        self.__dict__["_merged_cache"] = (sources, versions, merged)
        return merged

    def forward(self, x: Tensor, state: State, lengths: Tensor | None) -> tuple[Tensor, State]:
        # merged halves or one kernel each: warm_rl.backends says why
        if merges_double_halves(self.cell, x.device):
            warm_parts = self.warm.scan_parts(x.device)
            return run_scan(self._merged_parts(warm_parts, x.device), x, state, lengths)
        h0, c0 = state
        half = self.hidden_size // 2
        out_w, (h_w, c_w) = self.warm(x, (h0[:, :half], c0[:, :half]), lengths)
        out_c, (h_c, c_c) = self.cold(x, (h0[:, half:], c0[:, half:]), lengths)
        return torch.cat([out_w, out_c], -1), (torch.cat([h_w, h_c], -1), torch.cat([c_w, c_c], -1))
