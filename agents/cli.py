"""Command-line flags shared by the training and benchmark scripts.

``scripts/train.py`` (one run) and ``scripts/benchmark_rl.py`` (a sweep of runs)
build the same :class:`agents.training.RunConfig`; the flags for its shared fields
are declared here once, so both scripts accept them with the same names, defaults
and help.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from agents.defaults import DEFAULT_FEATURE_SKIP, PRETRAIN_CHOICES
from agents.training import DEFAULT_ENV, SCHEDULES, RunConfig
from warm_rl import CELL_NAMES

SHARED_RUN_FIELDS: tuple[str, ...] = (
    "env", "cell", "hidden_size", "n_envs", "feature_skip", "warmup_kwargs", "horizon_terminal",
    "ppo_kwargs", "lr_schedule", "ent_schedule", "policy_kwargs", "eval_episodes", "lsc_kwargs", "vaa_reg",
)
"""The :class:`RunConfig` fields set by :func:`add_run_arguments` (argparse dest = field name)."""


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the flags of the :class:`RunConfig` fields both scripts share.

    Args:
        parser: the script's parser; gains ``--env``, ``--cell``, ``--hidden-size``,
            ``--n-envs``, ``--feature-skip/--no-feature-skip``, ``--warmup-kwargs``, ``--lsc-kwargs``,
            ``--horizon-terminal``, ``--ppo-kwargs``, ``--lr-schedule``,
            ``--ent-schedule``, ``--policy-kwargs`` and ``--eval-episodes``.
    """
    parser.add_argument("--env", default=DEFAULT_ENV, help="gymnasium id (ours or any other)")
    parser.add_argument("--cell", default=RunConfig.cell, choices=CELL_NAMES, help="backbone recurrent cell")
    parser.add_argument("--hidden-size", type=int, default=RunConfig.hidden_size, help="backbone width")
    parser.add_argument("--n-envs", type=int, default=RunConfig.n_envs, help="parallel training envs")
    parser.add_argument("--feature-skip", action=argparse.BooleanOptionalAction, default=DEFAULT_FEATURE_SKIP,
                        help="the policy and value heads see the features beside the recurrent output")
    parser.add_argument("--warmup-kwargs", default="{}", type=json.loads,
                        help='JSON WarmupConfig overrides for warmed-up agents, e.g. \'{"eps": 0.01}\'')
    parser.add_argument("--lsc-kwargs", default="{}", type=json.loads,
                        help='JSON LSCConfig overrides for LSC-pre-trained agents, e.g. \'{"target": 0.5}\'')
    parser.add_argument("--horizon-terminal", action=argparse.BooleanOptionalAction, default=False,
                        help="report time-limit ends as terminal (agents.TruncationAsTermination)")
    parser.add_argument("--ppo-kwargs", default="{}", type=json.loads,
                        help='JSON dict for RecurrentPPO, e.g. \'{"n_steps": 256}\'')
    parser.add_argument("--lr-schedule", choices=SCHEDULES, default=RunConfig.lr_schedule,
                        help="linear: decay the learning rate to 0 over --timesteps")
    parser.add_argument("--ent-schedule", choices=SCHEDULES, default=RunConfig.ent_schedule,
                        help="linear: decay the entropy coefficient to 0 over --timesteps")
    parser.add_argument("--policy-kwargs", default="{}", type=json.loads,
                        help='JSON dict for WarmRecurrentPolicy, e.g. \'{"num_layers": 2}\'')
    parser.add_argument("--eval-episodes", type=int, default=RunConfig.eval_episodes,
                        help="greedy evaluation episodes")
    parser.add_argument("--vaa-reg", type=_vaa_reg, default=None, metavar="LAMBDA or JSON",
                        help="VAA* regulariser during training (warm_rl.VAARegularizer): a weight, or JSON "
                             'fields, e.g. \'{"weight": 0.1, "every": 5}\'')


def _vaa_reg(text: str) -> float | dict:
    """A ``--vaa-reg`` value: a number, or a JSON object of VAARegularizer fields."""
    try:
        return float(text)
    except ValueError:
        value = json.loads(text)
        if not isinstance(value, dict):
            raise argparse.ArgumentTypeError(f"--vaa-reg: a weight or a JSON object, got {text!r}") from None
        return value


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Shows every flag's default and keeps the description's line breaks (the scripts' formatter)."""


def _value(text: str) -> Any:
    """A ``key:value`` value: JSON where it parses (numbers, booleans, lists), else the string itself."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return {"True": True, "False": False, "None": None}.get(text, text)


def parse_kwargs(tokens: list[str] | str, flag: str = "--env-kwargs") -> dict[str, Any]:
    """Keyword arguments given as one JSON object or as rl_zoo3-style ``key:value`` pairs.

    ``'{"length": 30}'`` and ``length:30 stochasticity:0.1`` give the same kind of dict;
    values of pairs are read as JSON where they parse (``30``, ``0.1``, ``true``,
    ``[1, 2]``; also Python's ``True``/``False``/``None``), else kept as strings.

    Args:
        tokens: the flag's values (argparse ``nargs="*"``), or one string.
        flag: the flag's name, for error messages.

    Raises:
        ValueError: not a JSON object, or a pair without ``:`` (the message names the token).
    """
    if isinstance(tokens, str):
        tokens = [tokens]
    if len(tokens) == 1 and tokens[0].lstrip().startswith(("{", "[")):
        value = json.loads(tokens[0])
        if not isinstance(value, dict):
            raise ValueError(f"{flag} must be a JSON object or key:value pairs, got {tokens[0]!r}")
        return value
    parsed = {}
    for token in tokens:
        key, colon, text = token.partition(":")
        if not colon or not key:
            raise ValueError(f"{flag}: expected key:value (or one JSON object), got {token!r}")
        parsed[key] = _value(text)
    return parsed


PRETRAIN_NAMES: tuple[str, ...] = tuple("none" if c is None else c for c in PRETRAIN_CHOICES)
"""The ``--pretrain`` values (``none`` for None)."""


def parse_pretrain(value: str) -> str | None:
    """The ``RunConfig.pretrain`` of a ``--pretrain`` value (``none`` -> None)."""
    if value not in PRETRAIN_NAMES:
        raise argparse.ArgumentTypeError(f"unknown pre-training {value!r}; expected one of {', '.join(PRETRAIN_NAMES)}")
    return None if value == "none" else value


RENAMED_FLAGS: dict[str, str] = {
    "--n-layers": "--num-layers", "--vaa-steps": "--vaa-horizon",
    "--warmup": "--pretrain warmup", "--no-warmup": "--pretrain none",
}
"""Old flags of the training scripts and their new names (the old ones stop with an error)."""


def add_renamed_flags(parser: argparse.ArgumentParser, renamed: dict[str, str] = RENAMED_FLAGS) -> None:
    """Adds hidden flags that stop the parser with "``--old`` was renamed: use ``--new``".

    Args:
        parser: the script's parser.
        renamed: old flag -> new flag.
    """

    class Renamed(argparse.Action):
        def __call__(self, parser, namespace, values, option_string=None):
            parser.error(f"{option_string} was renamed: use {renamed[option_string]}")

    for old in renamed:
        parser.add_argument(old, nargs="?", action=Renamed, help=argparse.SUPPRESS)


def run_fields(args: argparse.Namespace) -> dict[str, Any]:
    """The :class:`RunConfig` keyword arguments of the flags added by :func:`add_run_arguments`.

    Args:
        args: the parsed namespace of a parser given to :func:`add_run_arguments`.

    Returns:
        ``{field: value}`` for every name in :data:`SHARED_RUN_FIELDS`.
    """
    return {field: getattr(args, field) for field in SHARED_RUN_FIELDS}
