"""Default settings of the warmed-up agents, found by ``scripts/benchmark_rl.py`` sweeps."""

DEFAULT_WARMUP: dict = {"steps": 100, "lr": 1e-2, "batch_size": 32, "increment": 10, "max_steps": 200}
"""Warm-up settings used by ``WarmRecurrentPolicy(warmup="default")`` (the paper's)."""

DEFAULT_WARMUP_ENV_STEPS: int = 2048
"""Environment steps collected with the initial policy to feed warm-up."""

DEFAULT_VAA_STEPS: int = 1000
"""Perturbation steps ``M`` of the periodic ``train/vaa`` measurement."""
