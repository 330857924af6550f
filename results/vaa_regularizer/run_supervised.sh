#!/bin/sh
# The VAA* regulariser on LSTM copy T=300 DLWU, the 40-epoch CPU setting of
# results/paper_tables/table1_lstm_T300_40ep.md (1 x 128, 8000 / 1000 / 5000 sequences), 3 seeds:
# no regulariser (rerun with today's warm-up, which restarts collapsed layers), then lambda 0.01, 0.1, 1
# (every 10 batches, k = 0.95, M = 100). One process per seed and lambda; a rerun skips finished runs.
set -e
COMMON="--table 1 --epochs 40 --train-size 8000 --val-size 1000 --test-size 5000 --threads 1 --no-progress
  --values 300 --cells lstm --modes double --out-dir results/vaa_regularizer"
for seed in 0 1 2; do
  python scripts/supervised.py $COMMON --seeds $seed --name lstm_T300_dlwu_none
  for lambda in 0.01 0.1 1; do
    python scripts/supervised.py $COMMON --seeds $seed --vaa-reg $lambda --name lstm_T300_dlwu_reg$lambda
  done
done
