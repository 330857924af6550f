"""Named difficulty variants of the tasks: ``warm_rl/<Task>-<Level>-v0`` ids with preset kwargs.

Each task gets ``Easy``, ``Medium`` and ``Hard`` (kwargs from short to long or from few to many
items to hold); the T-maze also gets its corridor lengths, ``warm_rl/TMaze-L<L>-v0`` (the
lengths of ``results/``). Keyword arguments given to ``gymnasium.make`` override the preset.
"""

from __future__ import annotations

from typing import Any

TASK_ENTRY_POINTS: dict[str, str] = {
    "TMaze": "envs.tmaze:TMaze",
    "CopyFirst": "envs.copy_first:CopyFirst",
    "DelayedMatch": "envs.delayed_match:DelayedMatch",
    "CueRecall": "envs.cue_recall:CueRecall",
    "CopyFirstContinuous": "envs.copy_first_continuous:CopyFirstContinuous",
    "RepeatPrevious": "envs.repeat_previous:RepeatPrevious",
    "CountEvents": "envs.count_events:CountEvents",
    "KeyValueRecall": "envs.key_value_recall:KeyValueRecall",
    "HiddenVelocityPendulum": "envs.hidden_velocity_pendulum:HiddenVelocityPendulum",
}
"""Task name -> gymnasium entry point (the base id is ``warm_rl/<name>-v0``)."""

LEVELS: dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = {
    "TMaze": ({"length": 10}, {"length": 50}, {"length": 100}),
    "CopyFirst": ({"delay": 10}, {"delay": 50}, {"delay": 200}),
    "DelayedMatch": ({"min_delay": 5, "max_delay": 10}, {"min_delay": 20, "max_delay": 40},
                     {"min_delay": 80, "max_delay": 160}),
    "CueRecall": ({"length": 20, "n_cues": 2}, {"length": 50, "n_cues": 3}, {"length": 100, "n_cues": 5}),
    "CopyFirstContinuous": ({"delay": 10}, {"delay": 50}, {"delay": 200}),
    "RepeatPrevious": ({"k": 1}, {"k": 4}, {"k": 8}),
    "CountEvents": ({"length": 20, "max_count": 4}, {"length": 50, "max_count": 8},
                    {"length": 100, "max_count": 16}),
    "KeyValueRecall": ({"n_pairs": 2, "delay": 2}, {"n_pairs": 3, "delay": 10}, {"n_pairs": 5, "delay": 30}),
    "HiddenVelocityPendulum": ({"noise_std": 0.0}, {"noise_std": 0.02}, {"noise_std": 0.1}),
}
"""Task name -> kwargs of its Easy, Medium and Hard variants."""

TMAZE_LENGTHS: tuple[int, ...] = (10, 30, 50, 100, 200)
"""Corridor lengths with an id of their own, ``warm_rl/TMaze-L<L>-v0``."""


def variant_specs() -> dict[str, tuple[str, dict[str, Any]]]:
    """Every variant id -> (entry point, preset kwargs)."""
    specs: dict[str, tuple[str, dict[str, Any]]] = {}
    for task, levels in LEVELS.items():
        for level, kwargs in zip(("Easy", "Medium", "Hard"), levels, strict=True):
            specs[f"warm_rl/{task}-{level}-v0"] = (TASK_ENTRY_POINTS[task], kwargs)
    for length in TMAZE_LENGTHS:
        specs[f"warm_rl/TMaze-L{length}-v0"] = (TASK_ENTRY_POINTS["TMaze"], {"length": length})
    return specs
