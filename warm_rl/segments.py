"""Re-layout of a batch with mid-sequence resets into independent segments.

A batch of trajectories ``(T, B)`` in which some columns start a new episode in
the middle (``reset_mask[t, b]`` true) is cut into segments: every column is
split at its resets, and each piece becomes its own sequence of a padded batch
``(T_seg, S)``. The whole batch then runs through the recurrent stack in one
call (one cuDNN call per layer on a GPU) instead of one call per time step.
Everything is vectorised; no Python loop over samples or steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class SegmentLayout:
    """Where each valid step ``(t, b)`` of the batch goes in the segment batch.

    Attributes:
        time: ``(V,)`` time index of each valid step in the original batch.
        column: ``(V,)`` batch index of each valid step.
        segment: ``(V,)`` segment index of each valid step.
        position: ``(V,)`` position of the step inside its segment.
        lengths: ``(S,)`` length of each segment.
        first_segment: ``(B,)`` first segment of each column.
        last_segment: ``(B,)`` last segment of each column.
        carries_state: ``(B,)`` bool, whether a column's first segment starts
            from the given state (no reset at ``t = 0``).
        steps: ``T`` of the original batch.
    """

    time: Tensor
    column: Tensor
    segment: Tensor
    position: Tensor
    lengths: Tensor
    first_segment: Tensor
    last_segment: Tensor
    carries_state: Tensor
    steps: int

    @property
    def num_segments(self) -> int:
        return int(self.lengths.shape[0])

    @classmethod
    def build(cls, reset_mask: Tensor, lengths: Tensor | None = None) -> SegmentLayout:
        """Computes the layout.

        Args:
            reset_mask: bool, true where the state is reset before step ``t``.
            lengths: valid steps of each column (all ``T`` if None).

        Shape:
            reset_mask ``(T, B)``; lengths ``(B,)``.
        """
        steps, batch = reset_mask.shape
        device = reset_mask.device
        time_index = torch.arange(steps, device=device)
        if lengths is None:
            valid = torch.ones(steps, batch, dtype=torch.bool, device=device)
        else:
            valid = time_index.unsqueeze(1) < lengths.to(device).unsqueeze(0)
        starts = reset_mask & valid
        starts[0] = True
        # Column-major order (b, t): segment ids grow along each column.
        starts_bt = starts.t().reshape(-1)
        valid_bt = valid.t().reshape(-1)
        segment_bt = torch.cumsum(starts_bt.long(), 0) - 1
        time_bt = time_index.repeat(batch)
        start_time = time_bt[starts_bt]
        position_bt = time_bt - start_time[segment_bt]
        keep = valid_bt.nonzero().squeeze(1)
        segment = segment_bt[keep]
        num_segments = int(start_time.shape[0])
        seg_lengths = torch.zeros(num_segments, dtype=torch.long, device=device)
        seg_lengths.scatter_add_(0, segment, torch.ones_like(segment))
        per_column = segment_bt.view(batch, steps)
        return cls(
            time=time_bt[keep],
            column=keep // steps,
            segment=segment,
            position=position_bt[keep],
            lengths=seg_lengths,
            first_segment=per_column[:, 0],
            last_segment=per_column[:, -1],
            carries_state=~reset_mask[0],
            steps=steps,
        )

    def scatter(self, x: Tensor) -> Tensor:
        """Moves a batch into the segment layout.

        Shape:
            x ``(T, B, F)`` -> ``(max segment length, S, F)``, zero-padded.
        """
        out = x.new_zeros(int(self.lengths.max()), self.num_segments, x.shape[-1])
        out[self.position, self.segment] = x[self.time, self.column]
        return out

    def gather(self, y: Tensor, batch: int) -> Tensor:
        """Moves segment outputs back to the original layout (zero where invalid).

        Shape:
            y ``(max segment length, S, H)`` -> ``(T, B, H)``.
        """
        out = y.new_zeros(self.steps, batch, y.shape[-1])
        out[self.time, self.column] = y[self.position, self.segment]
        return out

    def initial_state(self, state: Tensor) -> Tensor:
        """Initial state of every segment: the given one for a column's first
        segment (unless reset at ``t = 0``), zeros for the others.

        Shape:
            state ``(L, B, H)`` -> ``(L, S, H)``.
        """
        out = state.new_zeros(state.shape[0], self.num_segments, state.shape[-1])
        kept = state * self.carries_state.to(state.dtype).view(1, -1, 1)
        out[:, self.first_segment] = kept
        return out

    def final_state(self, state: Tensor) -> Tensor:
        """Final state of every column: that of its last segment.

        Shape:
            state ``(L, S, H)`` -> ``(L, B, H)``.
        """
        return state[:, self.last_segment]
