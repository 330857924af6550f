#!/bin/sh
# Seed 4 of run_v2_kl_reg.sh again, with warm-up's collapse rule widened to "at most 4 of 32
# attractors" (WarmupConfig.collapsed_count 4.5). Seeds 0-3's warm-ups are the same under it.
set -e
python scripts/benchmark_rl.py --cell lstm --lengths 50 --seeds 4 --variants warm --timesteps 1000000 \
  --eval-every 25000 --eval-episodes 50 --workers 1 --ppo-kwargs '{"target_kl": 0.02}' \
  --vaa-reg '{"weight": 1.0, "every": 1, "eps": 0.01}' --warmup-kwargs '{"collapsed_count": 4.5}' \
  --out results/tmaze_lstm/L50_1M_v2_kl02_reg1_cc45
