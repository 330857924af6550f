#!/bin/sh
# The double-layer LSTM agent on the T-maze L=50, 1M steps, under today's class defaults
# (AGENT_DEFAULTS_VERSION 2) plus PPO's target_kl 0.02 and the VAA* regulariser after every
# PPO update phase. Two runs at a time; a rerun skips finished runs.
set -e
python scripts/benchmark_rl.py --cell lstm --lengths 50 --seeds 0 1 2 3 4 --variants warm --timesteps 1000000 \
  --eval-every 25000 --eval-episodes 50 --workers 2 --ppo-kwargs '{"target_kl": 0.02}' \
  --vaa-reg '{"weight": 1.0, "every": 1, "eps": 0.01}' --out results/tmaze_lstm/L50_1M_v2_kl02_reg1
