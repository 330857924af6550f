"""Default settings of the warmed-up agents, found by ``scripts/benchmark_rl.py`` sweeps."""

DEFAULT_WARMUP: dict = {"steps": 100, "lr": 1e-2, "batch_size": 32, "increment": 10, "max_steps": 200, "eps": 1e-2}
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

DEFAULT_ENT_SCHEDULE: str = "linear"
"""The default run's entropy-coefficient schedule: 0.01 decayed linearly to 0 with the
learning rate.

With a constant 0.01 the sampled policy of a solved agent keeps stepping back about
one step in ten; on the L=50 T-maze one agent then read the cue at the (later) times
its sampled walks reached the junction and its greedy policy turned the wrong way
every time, another reached the junction in only half of its training episodes. With
the decay L=50 went from 4/5 to 5/5 solved at 1M steps (``results/rl_tmaze_memory.md``,
section 6).
"""

DEFAULT_WARMUP_ENV_STEPS: int = 2048
"""Environment steps collected with the initial policy to feed warm-up."""

DEFAULT_VAA_STEPS: int = 1000
"""Perturbation steps ``M`` of the periodic ``train/vaa`` measurement."""
