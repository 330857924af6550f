#!/bin/sh
# The defaults-version-3 candidate without the regulariser: today's class defaults
# (AGENT_DEFAULTS_VERSION 2) + PPO's target_kl 0.02 + warm-up's collapse rule "at most 4 of 32
# attractors" (WarmupConfig.collapsed_count 4.5). Seeds 3 and 4 only: seeds 0-2's warm-ups are
# the same under 4.5, so their runs are run_v2_kl.sh's.
set -e
python scripts/benchmark_rl.py --cell lstm --lengths 50 --seeds 3 4 --variants warm --timesteps 1000000 \
  --eval-every 25000 --eval-episodes 50 --workers 2 --ppo-kwargs '{"target_kl": 0.02}' \
  --warmup-kwargs '{"collapsed_count": 4.5}' \
  --out results/tmaze_lstm/L50_1M_v2_kl02_cc45
