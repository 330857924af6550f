#!/bin/sh
# Copy-first-input T=300, 1 x 128, GRU then LSTM, every pre-training: none, warm-up, DLWU, LSC (target 1),
# LSC (target 0.5), DLWU + LSC on the cold halves. CPU-sized: 4000 / 500 / 2000 train / val / test
# sequences and 10 epochs (paper: 40k / - / 50k, 50 epochs). Seed by seed; a rerun skips finished runs.
set -e
COMMON="--table 1 --values 300 --epochs 10 --train-size 4000 --val-size 500 --test-size 2000 --threads 1
  --no-progress --modes none full double lsc lsc_half double_lsc --out-dir results/lsc_vs_warmup --name copy_T300"
for cell in gru lstm; do
  for seed in 0 1 2; do
    python scripts/supervised.py $COMMON --cells $cell --seeds $seed
  done
done
