"""sb3-contrib integration: warmed-up recurrent policies, WarmRecurrentPPO, WarmupCallback.

    from agents import WarmRecurrentPPO
    model = WarmRecurrentPPO("MlpWarmPolicy", "envs:warm_rl/TMaze-v0",
                             policy_kwargs={"cell": "gru", "double": True})
    model.learn(100_000)

Importing ``agents`` registers the ``warm_rl/`` tasks too (``import envs``), so
``WarmRecurrentPPO("MlpWarmPolicy", "warm_rl/TMaze-v0")`` works without the ``envs:`` prefix.
"""

import envs  # noqa: F401  (registers the warm_rl/ tasks)
from agents.policies import CnnWarmPolicy, MlpWarmPolicy, MultiInputWarmPolicy, WarmRecurrentPolicy
from agents.ppo import WarmRecurrentPPO
from agents.warmup import WarmupCallback, collect_sequences, rollout_vaa, split_trajectories, warm_up_model
from agents.wrappers import PreviousActionReward, TruncationAsTermination

__all__ = [
    "CnnWarmPolicy",
    "MlpWarmPolicy",
    "MultiInputWarmPolicy",
    "PreviousActionReward",
    "TruncationAsTermination",
    "WarmRecurrentPPO",
    "WarmRecurrentPolicy",
    "WarmupCallback",
    "collect_sequences",
    "rollout_vaa",
    "split_trajectories",
    "warm_up_model",
]
