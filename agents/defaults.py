"""The one home of the agents' defaults: ``WarmRecurrentPPO``, ``WarmRecurrentPolicy``,
``RunConfig`` and the scripts all read them from here.

Why each value: ``results/tmaze_which_defaults_learn/README.md``, section "Why the defaults".
"""

DEFAULT_WARMUP: dict = {
    "updates": 100, "lr": 1e-2, "batch_size": 32, "horizon_increment": 10, "max_horizon": 200, "eps": 1e-2,
    "collapsed_count": 4.5,
}
"""Warm-up of ``WarmRecurrentPolicy(warmup="default")``: the paper's, except VAA*'s ``eps``
1e-2 instead of 1e-4, which leaves the T-maze cues ~4x further apart at the junction, and
the collapse rule "at most 4 of 32 attractors" instead of 2 (``WarmupConfig.collapsed_count``
4.5): a double-LSTM actor that ended its warm-up with 4 attractors was nearly monostable on
its task and never solved the T-maze; with the wider rule it restarts and solves
(``results/tmaze_lstm/README.md``)."""

PRETRAIN_CHOICES: tuple[str | None, ...] = ("warmup", "lsc", "warmup+lsc", None)
"""Values of ``pretrain``: warm-up, LSC pre-training, both (warm halves of double layers
warmed up, then the cold halves made locally stable), or none."""

DEFAULT_PRETRAIN: str | None = "warmup+lsc"
"""The pre-training of ``WarmRecurrentPolicy`` (``pretrain=``): the warm halves of the double
layers warmed up, then their cold halves made locally stable (LSC, target radius 1). Warm-up
alone left the cold halves - which carry the short, precise memory - slower to learn
(``results/rl_suite_study.md``, sections 3 and 5: -4.04 against the cold agent's 0.34 on
``repeat_previous``; with LSC -0.57, a tie), and solved the T-maze no faster."""

DEFAULT_FEATURE_SKIP: bool = True
"""The heads see the features beside the recurrent output: the recurrent state need only
carry what the observation does not tell."""

DEFAULT_NORMALIZE_ADVANTAGE: bool = False
"""``WarmRecurrentPPO``'s ``normalize_advantage`` (RecurrentPPO: True): normalising the noise
of a solved task's advantages breaks solved agents."""

DEFAULT_PPO_KWARGS: dict = {
    "n_steps": 128, "batch_size": 128, "n_epochs": 10, "learning_rate": 3e-4, "gamma": 0.99, "target_kl": 0.02,
}
"""``WarmRecurrentPPO``'s PPO settings: RecurrentPPO's own epochs and minibatch (80 gradient
steps per rollout of 8 envs). The earlier 4 epochs x 256 (16 steps, 3x less wall time per
step) lost to stock RecurrentPPO wherever every step is scored (``results/rl_suite_study.md``);
the learning rate decays from this value (:data:`DEFAULT_LR_SCHEDULE`). ``target_kl`` 0.02
(RecurrentPPO: None) stops a rollout's epochs once the policy's approximate KL passes 0.03:
with 80 steps per rollout the double-LSTM agent's T-maze policy turned deterministic before
it read the cue; the limit cured it and never acted on the GRU agent's updates measured
(``results/tmaze_lstm/README.md``; ``results/rl_suite_study.md``, section 6)."""

DEFAULT_LR_SCHEDULE: str = "linear"
"""The default run's learning rate decays linearly to 0 over its budget: it keeps solved
agents solved (a run's outcome then depends on its budget, ``agents.benchmark.run_name``)."""

DEFAULT_ENT_COEF: float = 0.0
"""No entropy bonus: on long T-mazes it pulls the corridor walk to 50/50 and ends exploration."""

DEFAULT_ENT_SCHEDULE: str = "constant"
"""The entropy coefficient's schedule (``"linear"``: decay a given bonus to 0 with the
learning rate; nothing to decay at the default 0)."""

DEFAULT_WARMUP_ENV_STEPS: int = 2048
"""Environment steps collected with the initial policy to feed warm-up."""

DEFAULT_VAA_HORIZON: int = 1000
"""Perturbation steps ``M`` of the logged VAA measurements (``warmup/vaa_*``, ``train/vaa``)."""

DEFAULT_VAA_EVERY: int = 10
"""Rollouts between two ``train/vaa`` measurements (0: none)."""


AGENT_DEFAULTS_VERSION: int = 3
"""Version of the defaults above, recorded with every run (``RunConfig.agent_defaults``).

Bumped whenever a default changes what a run with the same settings does, so that a
sweep never takes a record or checkpoint made under other defaults for its own run.
1: before 2026-12-07 (PPO 4 epochs x minibatch 256); 2: RecurrentPPO's 10 x 128; 3 (2026-12-07):
``pretrain="warmup+lsc"``, ``target_kl`` 0.02, warm-up's ``collapsed_count`` 4.5."""

