#!/bin/sh
# LSC and warm-up + LSC on the default T-maze agent, L=50, the default 1M budget (linear learning-rate
# decay, no entropy bonus), 5 seeds: the same settings as the warm-up and cold runs of
# results/tmaze_warm_vs_cold/L50_no_entropy_lr_linear_1M*.md. Seed by seed, one process; a rerun skips
# finished runs and continues unfinished ones from their checkpoints (lsc_vs_warmup/tmaze_L50_runs/).
set -e
for seed in 0 1 2 3 4; do
  python scripts/benchmark_rl.py --ppo-kwargs '{"ent_coef": 0.0}' --lengths 50 --seeds $seed \
    --variants lsc warm_lsc --timesteps 1000000 --eval-every 25000 --eval-episodes 50 --workers 1 \
    --out results/lsc_vs_warmup/tmaze_L50
done
