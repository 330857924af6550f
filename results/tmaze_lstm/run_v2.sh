#!/bin/sh
# The double-layer LSTM agent on the T-maze L=50, 1M steps, under today's class defaults
# (AGENT_DEFAULTS_VERSION 2: PPO 10 epochs x minibatch 128; L50_1M.* was measured with version 1).
# Seed by seed; a rerun skips finished runs and continues unfinished ones from their checkpoints.
set -e
for seed in 0 1 2 3 4; do
  python scripts/benchmark_rl.py --cell lstm --lengths 50 --seeds $seed --variants warm --timesteps 1000000 \
    --eval-every 25000 --eval-episodes 50 --workers 1 --out results/tmaze_lstm/L50_1M_v2
done
