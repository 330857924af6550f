"""warm-rl core: recurrent cells, stacked and double-layer nets, VAA / VAA*, warm-up.

Torch only: this package knows nothing of gymnasium or stable-baselines3.
"""

from warm_rl.backends import Backend, select_backend
from warm_rl.cells import CELL_NAMES
from warm_rl.network import RecurrentNet
from warm_rl.vaa import vaa, vaa_star
from warm_rl.warmup import WarmupConfig, WarmupReport, warm_up

__all__ = [
    "CELL_NAMES",
    "Backend",
    "RecurrentNet",
    "WarmupConfig",
    "WarmupReport",
    "select_backend",
    "vaa",
    "vaa_star",
    "warm_up",
]
__version__ = "0.1.0"
