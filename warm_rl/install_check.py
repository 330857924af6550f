"""Is this warm-rl installation whole? Where its top-level packages ``envs`` and ``agents`` come from.

The design fixes the top-level names ``envs`` and ``agents``; other PyPI distributions use
them too, and whichever is installed last overwrites the other's files. ``python -m warm_rl``
(or :func:`check_install`) finds each package *without importing it* and says whether it
is warm-rl's: a sibling of ``warm_rl`` owned by no other distribution.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from dataclasses import dataclass
from pathlib import Path

TOP_LEVEL = ("warm_rl", "envs", "agents")
"""warm-rl's top-level packages."""

DISTRIBUTION = "warm-rl"


@dataclass(frozen=True)
class PackageOrigin:
    """Where one top-level package is found.

    Attributes:
        name: the package (``"envs"``).
        location: its folder, None when it is not found.
        distributions: the installed distributions that declare the name (``warm-rl``
            alone when all is well).
        ours: found beside ``warm_rl`` and owned by no other distribution.
    """

    name: str
    location: Path | None
    distributions: tuple[str, ...]
    ours: bool


def _folder(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).resolve().parent


def check_install() -> list[PackageOrigin]:
    """Where ``warm_rl``, ``envs`` and ``agents`` come from, and whether they are warm-rl's (none is imported)."""
    owners = importlib.metadata.packages_distributions()
    home = _folder("warm_rl")
    origins = []
    for name in TOP_LEVEL:
        folder = _folder(name)
        distributions = tuple(sorted(set(owners.get(name, ()))))
        others = [d for d in distributions if d.lower().replace("_", "-") != DISTRIBUTION]
        ours = folder is not None and home is not None and folder.parent == home.parent and not others
        origins.append(PackageOrigin(name, folder, distributions, ours))
    return origins


def report(origins: list[PackageOrigin]) -> str:
    """The lines ``python -m warm_rl`` prints."""
    try:
        version = importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        version = "not installed (run from a source tree)"
    lines = [f"warm-rl {version}"]
    for origin in origins:
        where = origin.location if origin.location is not None else "NOT FOUND"
        owners = ", ".join(origin.distributions) or "no distribution (source tree)"
        verdict = "ok" if origin.ours else "NOT warm-rl's: install warm-rl in its own virtual environment"
        lines.append(f"{origin.name:8s} {where}  [{owners}]  {verdict}")
    return "\n".join(lines)
