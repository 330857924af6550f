"""rl_zoo3 with warm-rl's agent: ``python -m agents.zoo train --algo warm_ppo --env warm_rl/TMaze-v0``.

Registers :class:`agents.WarmRecurrentPPO` in rl_zoo3 as ``warm_ppo`` (beside its own
``ppo_lstm``), registers the ``warm_rl/`` tasks, and runs rl_zoo3's ``train`` or
``enjoy`` with every flag of theirs. With ``--algo warm_ppo`` and no ``--conf-file``, the
hyperparameters are warm-rl's :data:`HYPERPARAMS` (``agents/hyperparams/warm_ppo.yml``:
the tuned T-maze defaults, and one entry per memory task). Needs ``pip install
"warm-rl[zoo]"``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import envs  # noqa: F401  (registers the warm_rl/ tasks)
from agents.ppo import WarmRecurrentPPO

ALGO_NAME = "warm_ppo"
"""The ``--algo`` name of WarmRecurrentPPO in rl_zoo3."""

HYPERPARAMS = Path(__file__).with_name("hyperparams") / "warm_ppo.yml"
"""warm-rl's rl_zoo3 hyperparameter file."""

COMMANDS = ("train", "enjoy")


def register() -> None:
    """Adds ``warm_ppo`` to rl_zoo3's algorithms (idempotent).

    Raises:
        ImportError: rl_zoo3 is not installed (the message says how to get it).
    """
    try:
        from rl_zoo3.utils import ALGOS
    except ImportError as error:
        raise ImportError('agents.zoo needs rl_zoo3: pip install "warm-rl[zoo]" (or pip install rl_zoo3)') from error
    ALGOS[ALGO_NAME] = WarmRecurrentPPO


def zoo_argv(argv: list[str]) -> list[str]:
    """rl_zoo3's flags for ``argv`` (the command removed): warm-rl's hyperparameters added where
    ``--algo warm_ppo`` is given without ``--conf-file``."""
    flags = list(argv)
    algo = flags[flags.index("--algo") + 1] if "--algo" in flags[:-1] else None
    if algo == ALGO_NAME and not {"--conf-file", "-conf", "--conf"} & set(flags):
        flags += ["--conf-file", str(HYPERPARAMS)]
    return flags


def main(argv: list[str] | None = None) -> int:
    """``python -m agents.zoo train|enjoy [rl_zoo3 flags]``."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:
        print(f"usage: python -m agents.zoo {{{','.join(COMMANDS)}}} --algo {ALGO_NAME} --env warm_rl/TMaze-v0 "
              "[rl_zoo3 flags]", file=sys.stderr)
        return 2
    register()
    command, flags = argv[0], zoo_argv(argv[1:])
    saved, sys.argv = sys.argv, [f"rl_zoo3 {command}", *flags]
    try:
        if command == "train":
            from rl_zoo3.train import train

            train()
        else:
            from rl_zoo3.enjoy import enjoy

            enjoy()
    finally:
        sys.argv = saved
    return 0


if __name__ == "__main__":
    sys.exit(main())
