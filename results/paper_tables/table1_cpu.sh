#!/bin/sh
# CPU-feasible subset of the paper's Table 1 (copy first input), run on a 2-core CPU
# with one torch thread: 1 x 128 as in the paper, but 8k training / 1k validation /
# 5k test samples (paper: 40k / - / 50k) and 10 epochs (paper: 50). All runs share
# one settings set, so they aggregate into results/paper_tables/table1.md.
set -e
COMMON="--table 1 --epochs 10 --train-size 8000 --val-size 1000 --test-size 5000 --threads 1 --no-progress"
python scripts/supervised.py $COMMON --values 300 --cells gru
python scripts/supervised.py $COMMON --values 50
python scripts/supervised.py $COMMON --values 300 --cells mgu lstm
