"""Argument checks shared by the memory tasks.

Every helper raises an error whose message names the argument, the allowed range and the value
received, e.g. ``"length must be an integer >= 2, got 1"``: ``TypeError`` for a value of the wrong
kind, ``ValueError`` for one out of range.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Collection, Sequence
from typing import Any

import numpy as np


def check_int(name: str, value: Any, minimum: int, maximum: int | None = None) -> int:
    """Return ``value`` as an ``int`` after checking ``minimum <= value (<= maximum)``.

    Args:
        name: Argument name, used in the error message.
        value: The value to check. Python and numpy integers are accepted; ``bool`` is not.
        minimum: Smallest allowed value.
        maximum: Largest allowed value, or ``None`` for no upper bound.

    Returns:
        The value as a Python ``int``.

    Raises:
        TypeError: If ``value`` is not an integer.
        ValueError: If ``value`` is out of range.
    """
    allowed = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer {allowed}, got {value!r}")
    value = int(value)
    if value < minimum or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be an integer {allowed}, got {value}")
    return value


def check_probability(name: str, value: Any) -> float:
    """Return ``value`` as a ``float`` after checking ``0 <= value < 1``.

    Args:
        name: Argument name, used in the error message.
        value: The value to check (any real number type except ``bool``).

    Returns:
        The value as a Python ``float``.

    Raises:
        TypeError: If ``value`` is not a real number.
        ValueError: If ``value`` is not in ``[0, 1)``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number in [0, 1), got {value!r}")
    value = float(value)
    if not (math.isfinite(value) and 0.0 <= value < 1.0):
        raise ValueError(f"{name} must be a number in [0, 1), got {value}")
    return value


def check_real(
    name: str, value: Any, minimum: float, maximum: float | None = None, *, exclusive: bool = False
) -> float:
    """Return ``value`` as a finite ``float`` after checking it against its bounds.

    Args:
        name: Argument name, used in the error message.
        value: The value to check (any real number type except ``bool``).
        minimum: Smallest allowed value.
        maximum: Largest allowed value, or ``None`` for no upper bound.
        exclusive: Whether the bounds themselves are excluded (``(0, 1)`` rather than ``[0, 1]``).

    Returns:
        The value as a Python ``float``.

    Raises:
        TypeError: If ``value`` is not a real number.
        ValueError: If ``value`` is not finite or out of range.
    """
    if maximum is None:
        allowed = f"{'>' if exclusive else '>='} {minimum:g}"
    else:
        low, high = ("(", ")") if exclusive else ("[", "]")
        allowed = f"in {low}{minimum:g}, {maximum:g}{high}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number {allowed}, got {value!r}")
    value = float(value)
    if exclusive:
        inside = minimum < value and (maximum is None or value < maximum)
    else:
        inside = minimum <= value and (maximum is None or value <= maximum)
    if not (math.isfinite(value) and inside):
        raise ValueError(f"{name} must be a number {allowed}, got {value}")
    return value


def check_choice(name: str, value: Any, choices: Sequence[Any]) -> Any:
    """Return ``value`` after checking that it is one of ``choices``.

    Args:
        name: Argument name, used in the error message.
        value: The value to check.
        choices: The allowed values.

    Returns:
        ``value`` unchanged.

    Raises:
        ValueError: If ``value`` is not one of ``choices``.
    """
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return value


def check_render_mode(render_mode: str | None, render_modes: Sequence[str]) -> str | None:
    """Check a ``render_mode`` constructor argument against the env's ``metadata``.

    Args:
        render_mode: The requested mode, or ``None`` for no rendering.
        render_modes: The modes the env supports (``metadata["render_modes"]``).

    Returns:
        ``render_mode`` unchanged.

    Raises:
        ValueError: If ``render_mode`` is neither ``None`` nor a supported mode.
    """
    if render_mode is not None and render_mode not in render_modes:
        raise ValueError(
            f"render_mode must be None or one of {list(render_modes)}, got {render_mode!r}"
        )
    return render_mode


def check_options(options: Any, allowed: Collection[str]) -> dict[str, Any]:
    """Check the ``options`` argument of ``reset()``: ``None`` or a dict of known keys.

    Args:
        options: What ``reset()`` received.
        allowed: The option keys the task understands (may be empty).

    Returns:
        ``options``, or ``{}`` for ``None``.

    Raises:
        TypeError: If ``options`` is neither ``None`` nor a dict.
        ValueError: If ``options`` has keys outside ``allowed`` (all of them are named).
    """
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise TypeError(f"reset() options must be None or a dict, got {options!r}")
    unknown = [key for key in options if key not in allowed]
    if unknown:
        takes = f"the allowed keys are {sorted(allowed)}" if allowed else "this task takes no options"
        raise ValueError(f"unknown reset() option(s) {unknown!r}: {takes}")
    return options


def discrete_action(action: Any, n: int) -> int:
    """Convert a ``Discrete(n)`` action to an ``int``, checking its type and range.

    Accepts Python ints, numpy integers and 0-d integer arrays (what samplers and agents pass);
    rejects ``bool`` (``True`` is not action 1). Kept minimal because it runs on every step: the
    shape is only looked at once the action has been refused.

    Args:
        action: The action passed to ``step``.
        n: Number of actions.

    Returns:
        The action as a Python ``int`` in ``[0, n)``.

    Raises:
        TypeError: If ``action`` is not an integer (a ``bool`` included).
        ValueError: If ``action`` is out of range, or an array or sequence that is not 0-d.
    """
    if isinstance(action, (bool, np.bool_)) or (isinstance(action, np.ndarray) and action.dtype == np.bool_):
        # operator.index(True) is 1 (and numpy < 2 also indexes numpy bools)
        raise TypeError(f"action must be an integer in [0, {n - 1}], not a bool, got {action!r}")
    try:
        a = operator.index(action)
    except TypeError:
        if isinstance(action, (np.ndarray, list, tuple)):
            try:
                shape: Any = np.shape(action)
            except ValueError:  # a ragged nested sequence
                shape = "ragged"
            if shape != ():
                raise ValueError(
                    f"action must be a single integer in [0, {n - 1}] (shape ()), "
                    f"got {action!r} of shape {shape}"
                ) from None
        raise TypeError(f"action must be an integer in [0, {n - 1}], got {action!r}") from None
    if a < 0 or a >= n:
        raise ValueError(f"action must be an integer in [0, {n - 1}], got {a}")
    return a


def scalar_action(action: Any) -> float:
    """Convert a ``Box(shape=(1,))`` action to a ``float``, checking that it is one finite number.

    Out-of-bounds values are returned as they are: the envs clip them.

    Args:
        action: The action passed to ``step`` (an array, list or tuple of one number).

    Returns:
        The number as a Python ``float``.

    Raises:
        ValueError: If ``action`` does not hold exactly one finite number.
    """
    try:
        (value,) = action
        # a nested [[x]] is refused (numpy < 2 would also take float() of a 1-element array)
        value = float(value) if np.ndim(value) == 0 else math.nan
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value):
        raise ValueError(f"action must hold one finite number (shape (1,)), got {action!r}")
    return value
