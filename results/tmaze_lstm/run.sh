#!/bin/sh
# The double-layer LSTM agent on the T-maze (issue: it did not learn L=30 in 300k steps, 0 of 2):
# the default agent with --cell lstm, after warm-up's collapse restart (warm_rl.warmup.COLLAPSED_COUNT).
# L=30 300k (2 seeds), then L=50 1M (5 seeds). Seed by seed; a rerun skips finished runs and
# continues unfinished ones from their checkpoints.
set -e
for seed in 0 1; do
  python scripts/benchmark_rl.py --cell lstm --lengths 30 --seeds $seed --variants warm --timesteps 300000 \
    --eval-every 25000 --eval-episodes 50 --workers 1 --out results/tmaze_lstm/L30_300k
done
for seed in 0 1 2 3 4; do
  python scripts/benchmark_rl.py --cell lstm --lengths 50 --seeds $seed --variants warm --timesteps 1000000 \
    --eval-every 25000 --eval-episodes 50 --workers 1 --out results/tmaze_lstm/L50_1M
done
