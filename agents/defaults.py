"""Default settings of the warmed-up agents, found by ``scripts/benchmark_rl.py`` sweeps."""

DEFAULT_WARMUP: dict = {"updates": 100, "lr": 1e-2, "batch_size": 32, "horizon_increment": 10, "max_horizon": 200, "eps": 1e-2}
"""Warm-up settings used by ``WarmRecurrentPolicy(warmup="default")``.

The paper's, except the distance scale ``eps`` of VAA*: 1e-2 instead of 1e-4.
With 1e-4 two final states count as different attractors once they are 1e-4
apart, and warm-up leaves the T-maze cue only about 0.05 apart in the actor
state at the junction of an L=50 corridor; with 1e-2 it pushes attractors
further apart (about 0.18, ``scripts/tmaze_probe.py``), and the policy head,
whose weights must grow like (logit gap) / distance, learns to read the cue
sooner (``results/rl_tmaze_memory.md``).
"""

DEFAULT_FEATURE_SKIP: bool = True
"""``WarmRecurrentPPO``'s default ``feature_skip``: the heads see the features too."""

DEFAULT_NORMALIZE_ADVANTAGE: bool = False
"""``WarmRecurrentPPO``'s default ``normalize_advantage`` (RecurrentPPO: True).

Once an agent has solved its task the advantages are noise (std 0.004 on the
solved L=50 T-maze), and per-minibatch normalisation scales that noise up ~250x
into full-size policy updates that eventually break the solution
(``results/rl_tmaze_memory.md``, section 3).
"""

DEFAULT_LR_SCHEDULE: str = "linear"
"""The default run's learning-rate schedule (``agents.training.RunConfig``): linear to 0
over the run's budget, as in PPO's Atari settings.

With a constant rate, 2 of 5 warm agents that had solved the L=50 T-maze had lost it
at 1M steps (3/5 solved); with the linear decay 4/5 were solved at 1M
(``results/rl_tmaze_memory.md``, section 5). A run's outcome then depends on its
budget: a longer rerun starts over instead of continuing (``agents.benchmark.run_name``).
"""

DEFAULT_ENT_COEF: float = 0.0
"""The default run's entropy coefficient: no entropy bonus.

On the L=100 T-maze the bonus ends exploration: it pulls the corridor policy towards
50/50 left/right, a symmetric walk never covers 100 cells within the 299-step horizon,
and with 0.01 decayed to 0 over 2M steps 2 of 3 agents stopped reaching the junction
within 60k steps (the third solved the task, lost it and ended at 0.00). Without it,
4 of 5 agents were solved at 2M steps (first solved at 100k-600k), and L=10 (5/5 within
150k) and L=50 (5 seeds, 1M) were solved as with the decaying bonus
(``results/rl_tmaze_memory.md``, sections 7 and 8).
"""

DEFAULT_ENT_SCHEDULE: str = "constant"
"""The default run's entropy-coefficient schedule (``"linear"``: decay ``ent_coef`` to 0
with the learning rate). Nothing to decay with the default coefficient 0; with a bonus
(``--ppo-kwargs '{"ent_coef": 0.01}'``) the linear decay solved L=50 in 5/5 seeds at 1M
steps against 4/5 with a constant bonus (``results/rl_tmaze_memory.md``, section 6).
"""

DEFAULT_WARMUP_ENV_STEPS: int = 2048
"""Environment steps collected with the initial policy to feed warm-up."""

DEFAULT_VAA_STEPS: int = 1000
"""Perturbation steps ``M`` of the periodic ``train/vaa`` measurement."""
