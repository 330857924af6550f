"""Argument checks shared by the whole project: ``TypeError`` for a wrong type, ``ValueError`` for a wrong value.

Every message names the argument and the value it got, so that a bad setting is
found where it was written, not in a stack frame deep inside torch.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable
from numbers import Integral, Real


def check_int(name: str, value: object, minimum: int | None = None, maximum: int | None = None) -> int:
    """An int (not a bool) within ``[minimum, maximum]``.

    Args:
        name: how the argument is called in the message (``"WarmupConfig.updates"``).
        value: what was passed.
        minimum: smallest allowed value (no bound if None).
        maximum: largest allowed value (no bound if None).

    Returns:
        ``value`` as a Python int.

    Raises:
        TypeError: ``value`` is not an integer (bools are rejected too).
        ValueError: ``value`` is out of range.
    """
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return int(value)


def check_number(
    name: str,
    value: object,
    minimum: float | None = None,
    maximum: float | None = None,
    strict_minimum: bool = False,
) -> float:
    """A finite real number (not a bool) within the given bounds.

    Args:
        name: how the argument is called in the message.
        value: what was passed.
        minimum: lower bound (none if None).
        maximum: upper bound, inclusive (none if None).
        strict_minimum: the lower bound is exclusive (``value > minimum``).

    Returns:
        ``value`` as a Python float.

    Raises:
        TypeError: ``value`` is not a real number.
        ValueError: ``value`` is nan, infinite or out of range.
    """
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if minimum is not None:
        if strict_minimum and not number > minimum:
            raise ValueError(f"{name} must be > {minimum:g}, got {value!r}")
        if not strict_minimum and number < minimum:
            raise ValueError(f"{name} must be >= {minimum:g}, got {value!r}")
    if maximum is not None and number > maximum:
        raise ValueError(f"{name} must be <= {maximum:g}, got {value!r}")
    return number


def check_bool(name: str, value: object) -> bool:
    """A bool (numpy bools too); ``"no"`` or ``1`` are refused, not taken as truthy.

    Raises:
        TypeError: ``value`` is not a bool.
    """
    if not isinstance(value, bool) and type(value).__name__ != "bool_":
        raise TypeError(f"{name} must be a bool, got {type(value).__name__} {value!r}")
    return bool(value)


def check_choice(name: str, value: object, choices: tuple[str, ...] | list[str]) -> str:
    """One of ``choices``.

    Raises:
        ValueError: ``value`` is not one of them.
    """
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"unknown {name} {value!r}; expected one of {', '.join(map(str, choices))}")
    return value


def check_dtype(name: str, tensor: object, expected: object, owner: str = "the network") -> None:
    """A tensor whose dtype is ``expected`` (the dtype of ``owner``'s parameters).

    Only the dtype is read: free, no device synchronisation.

    Raises:
        TypeError: the dtypes differ; the message names both and how to fix it.
    """
    if tensor.dtype != expected:
        raise TypeError(
            f"{name} has dtype {tensor.dtype} but {owner} has dtype {expected}: "
            f"cast one of them (tensor.to({expected}) or net.to({tensor.dtype}))"
        )


def reject_renamed(owner: str, given: dict, renamed: dict[str, str]) -> None:
    """Refuses arguments that were renamed, naming the new name.

    Args:
        owner: what takes the arguments (``"WarmupConfig"``).
        given: the keyword arguments passed.
        renamed: old name -> new name.

    Raises:
        TypeError: an old name was used.
    """
    for old, new in renamed.items():
        if old in given:
            raise TypeError(f"{owner} got {old!r}, which was renamed: use {new!r}")


def refuse_renamed_fields(owner: str, renamed: dict[str, str]) -> Callable[[type], type]:
    """Class decorator for a dataclass: its ``__init__`` refuses the old field names.

    Put it above ``@dataclass``; ``Config(old_name=...)`` then raises a ``TypeError``
    naming the new field instead of Python's "unexpected keyword argument".

    Args:
        owner: the class name used in the message.
        renamed: old field name -> new field name.
    """

    def decorate(cls: type) -> type:
        init = cls.__init__

        @functools.wraps(init)
        def __init__(self, *args, **kwargs) -> None:
            reject_renamed(owner, kwargs, renamed)
            init(self, *args, **kwargs)

        __init__.__signature__ = inspect.signature(init)
        cls.__init__ = __init__
        return cls

    return decorate


def config_from_value(cls: type, value: object, label: str, what: str, renamed: dict[str, str] | None = None):
    """A dataclass config from an instance, a dict of its fields, or None (its defaults).

    Args:
        cls: the config dataclass.
        value: what the caller gave.
        label: the config's class name in messages (``"WarmupConfig"``).
        what: what it configures, for the wrong-type message (``"warm-up config"``).
        renamed: old field name -> new name (old names raise ``TypeError``).

    Raises:
        TypeError: ``value`` of another type, or a renamed field.
        ValueError: unknown fields.
    """
    if value is None:
        return cls()
    if isinstance(value, cls):
        return value
    if isinstance(value, dict):
        reject_renamed(label, value, renamed or {})
        unknown = sorted(set(value) - set(cls.__dataclass_fields__))
        if unknown:
            raise ValueError(f"unknown {label} field(s) {unknown}")
        return cls(**value)
    raise TypeError(f"{what} must be a {label}, dict or None, got {type(value).__name__}")
