"""Test-wide settings: one torch thread (tiny tensors; avoids oversubscribing CI's 2 cores)."""

import torch

torch.set_num_threads(1)
