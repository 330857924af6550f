"""The command-line programs of the agents, installed as console scripts (``pyproject.toml``).

``warm-rl-train`` (:mod:`agents.commands.train`) and ``warm-rl-benchmark``
(:mod:`agents.commands.benchmark`); ``scripts/train.py`` and ``scripts/benchmark_rl.py``
are thin wrappers around the same ``main``.
"""
