"""``python -m warm_rl``: says where warm-rl's packages were found and whether they are warm-rl's."""

import sys

from warm_rl.install_check import check_install, report

origins = check_install()
print(report(origins))
sys.exit(0 if all(origin.ours for origin in origins) else 1)
