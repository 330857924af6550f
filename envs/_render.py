"""Shared numpy drawing for the ``"rgb_array"`` render mode of the memory tasks.

A frame is a grid of square cells, ``CELL`` pixels wide, separated by 1-pixel gaps of the
background color. An env fills a ``(rows, cols, 3)`` uint8 array of cell colors (start from
:func:`blank`) and :func:`to_image` scales it up and draws the agent as a yellow square inset in
its cell. The sequence tasks share one layout, built by :func:`strip`. Nothing here runs unless
``render()`` is called.
"""

from __future__ import annotations

import numpy as np
from gymnasium import logger

CELL = 8
"""Side of a cell in pixels (the last row and column of each cell are the gap)."""

BACKGROUND = (30, 30, 30)
"""Walls, gaps, columns past the end of an episode."""
FUTURE = (50, 50, 75)
"""Steps of the episode not reached yet."""
BLANK = (100, 100, 100)
"""A step that shows nothing (the delay of the delayed match)."""
CORRIDOR = (150, 150, 150)
JUNCTION = (225, 225, 225)
QUERY = (255, 255, 255)
"""A query / recall step, and the marked steps of the cue recall."""
AGENT = (255, 215, 0)
GOOD = (40, 200, 60)
"""Goal exit, success."""
BAD = (220, 40, 40)
"""Wrong exit, failure."""


def warn_no_render_mode() -> None:
    """The warning gymnasium envs give when ``render()`` is called with ``render_mode=None``."""
    logger.warn(
        "You are calling render method without specifying any render mode. "
        'You can specify the render_mode at initialization, e.g. render_mode="ansi" or '
        'render_mode="rgb_array"'
    )


def symbol_colors(n: int) -> np.ndarray:
    """``(n, 3)`` uint8 colors, one saturated hue per symbol (symbol 0 blue, then around the
    color wheel), distinct for every ``n``."""
    hue = (0.6 + np.arange(n) / n) % 1.0
    # HSV -> RGB with saturation 0.75 and value 0.95, for the three channels at once.
    k = (np.array([5.0, 3.0, 1.0]) + hue[:, None] * 6.0) % 6.0
    rgb = 0.95 * (1.0 - 0.75 * np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0))
    return np.round(rgb * 255).astype(np.uint8)


def grey(values: np.ndarray | float) -> np.ndarray:
    """uint8 grey levels (shape ``(..., 3)``) for real values in ``[-1, 1]``: -1 dark, +1 light."""
    level = 150.0 + 70.0 * np.clip(np.asarray(values, dtype=np.float64), -1.0, 1.0)
    return np.repeat(np.round(level).astype(np.uint8)[..., None], 3, axis=-1)


def outcome_color(score: float) -> np.ndarray:
    """From ``BAD`` (score <= 0) to ``GOOD`` (score >= 1), e.g. ``reward / max_return``."""
    s = min(max(score, 0.0), 1.0)
    return np.round((1.0 - s) * np.array(BAD) + s * np.array(GOOD)).astype(np.uint8)


def blank(rows: int, cols: int) -> np.ndarray:
    """A ``(rows, cols, 3)`` grid of background cells."""
    return np.full((rows, cols, 3), BACKGROUND, dtype=np.uint8)


def to_image(cells: np.ndarray, agent: tuple[int, int] | None = None) -> np.ndarray:
    """Scale a grid of cell colors up to a ``(rows * CELL, cols * CELL, 3)`` uint8 image.

    Args:
        cells: ``(rows, cols, 3)`` uint8 cell colors.
        agent: ``(row, col)`` of the cell where the agent is drawn, or ``None``.
    """
    img = cells.repeat(CELL, axis=0).repeat(CELL, axis=1)
    img[CELL - 1 :: CELL] = BACKGROUND
    img[:, CELL - 1 :: CELL] = BACKGROUND
    if agent is not None:
        r, c = agent[0] * CELL, agent[1] * CELL
        m = CELL // 4
        img[r + m : r + CELL - 1 - m, c + m : c + CELL - 1 - m] = AGENT
    return img


def strip(
    shown: np.ndarray,
    answers: np.ndarray,
    width: int,
    t: int,
    done: bool,
    score: float | None,
) -> np.ndarray:
    """The frame of a sequence task: two rows of cells, one column per step plus one.

    The top row shows what the env shows at each step, for the steps reached so far (later
    steps are ``FUTURE``); the agent is drawn at the current step. The bottom row holds the
    hidden answer key. The last column shows the outcome once the episode is over (the agent
    moves there).

    Args:
        shown: ``(length, 3)`` colors of the observations of this episode's steps.
        answers: ``(length, 3)`` colors of the bottom row.
        width: Number of step columns (the horizon; columns past ``length`` stay background,
            so that every frame of an env has the same size).
        t: Current step (index of the observation last returned).
        done: Whether the episode is over (or not started).
        score: ``reward / max_return`` of the last step of a finished episode, else ``None``.
    """
    length = len(shown)
    cells = blank(2, width + 1)
    cells[0, :length] = shown
    cells[0, t + 1 : length] = FUTURE
    cells[1, :length] = answers
    if done and score is not None:
        cells[0, width] = outcome_color(score)
    return to_image(cells, (0, width) if done else (0, t))
