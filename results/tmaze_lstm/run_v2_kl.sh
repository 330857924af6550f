#!/bin/sh
# The double-layer LSTM agent on the T-maze L=50, 1M steps, under today's class defaults
# (AGENT_DEFAULTS_VERSION 2) plus PPO's target_kl 0.02 (a rollout's epochs stop once the
# policy's approximate KL passes 0.03). Two runs at a time; a rerun skips finished runs. Seed 3 was not run (see README).
set -e
python scripts/benchmark_rl.py --cell lstm --lengths 50 --seeds 0 1 2 4 --variants warm --timesteps 1000000 \
  --eval-every 25000 --eval-episodes 50 --workers 2 --ppo-kwargs '{"target_kl": 0.02}' \
  --out results/tmaze_lstm/L50_1M_v2_kl02
