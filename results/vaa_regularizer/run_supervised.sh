#!/bin/sh
# The VAA* regulariser on LSTM copy T=300 DLWU, the 40-epoch CPU setting of
# results/paper_tables/table1_lstm_T300_40ep.md (1 x 128, 8000 / 1000 / 5000 sequences), 3 seeds:
# no regulariser (rerun with today's warm-up, which restarts collapsed layers), then lambda 0.01, 0.1, 1
# (every 10 batches, k = 0.95, M = 100). One process per seed and lambda; a rerun skips finished runs.
# Seeds 1 and 2 (the two that lost multistability in the first epoch without the regulariser) run
# first, so a sweep cut short still answers the question; seed 0 (which kept it) shows where it hurts.
set -e
cd "$(dirname "$0")/../.."
COMMON="--table 1 --epochs 40 --train-size 8000 --val-size 1000 --test-size 5000 --threads 1 --no-progress
  --values 300 --cells lstm --modes double --out-dir results/vaa_regularizer"
for seed in 1 2 0; do
  for lambda in 0.1 1 none 0.01; do
    if [ "$lambda" = none ]; then
      python scripts/supervised.py $COMMON --seeds $seed --name lstm_T300_dlwu_none
    else
      python scripts/supervised.py $COMMON --seeds $seed --vaa-reg $lambda --name lstm_T300_dlwu_reg$lambda
    fi
  done
done
