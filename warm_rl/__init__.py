"""warm-rl core: recurrent cells, stacked and double-layer nets, VAA / VAA*, warm-up, LSC pre-training.

Torch only: this package knows nothing of gymnasium or stable-baselines3.
"""

from warm_rl.backends import Backend, select_backend
from warm_rl.cells import CELL_NAMES
from warm_rl.install_check import check_install
from warm_rl.lsc import LSCConfig, LSCReport, lsc_pretrain, lsc_radii
from warm_rl.lsc_radius import jacobian_radius
from warm_rl.network import RecurrentNet
from warm_rl.vaa import vaa, vaa_star
from warm_rl.vaa_regularizer import VAARegularizer
from warm_rl.warmup import WarmupConfig, WarmupReport, warm_up

__all__ = [
    "check_install",
    "CELL_NAMES",
    "Backend",
    "LSCConfig",
    "LSCReport",
    "RecurrentNet",
    "VAARegularizer",
    "WarmupConfig",
    "WarmupReport",
    "jacobian_radius",
    "lsc_pretrain",
    "lsc_radii",
    "select_backend",
    "vaa",
    "vaa_star",
    "warm_up",
]
__version__ = "0.1.0"
