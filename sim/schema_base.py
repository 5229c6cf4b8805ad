"""Building blocks of the parameter schema: strict sections, documented fields, short messages.

Shared by :mod:`sim.params` (the scenario's sections) and :mod:`sim.interventions.schema`
(the ``[[interventions]]`` list); imports nothing from ``sim``.
"""

from __future__ import annotations

import math
import types
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator


class ScenarioError(ValueError):
    """A scenario could not be loaded: the message names file, field and allowed range."""


MAX_FILE_BYTES = 32 * 2**20
"""Largest scenario or experiment file read [bytes] (32 MiB; a scenario with a million explicit thresholds fits)."""

MAX_NESTING = 32
"""Deepest nesting of tables and arrays accepted in a file or an override [levels]."""

MAX_ERRORS_SHOWN = 20
"""At most this many field errors are listed in one message; the rest are counted."""


def short(value: Any, limit: int = 80) -> str:
    """``repr(value)`` cut to about ``limit`` characters (messages stay short whatever the input)."""
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a value whose repr fails is still reported
        text = f"<{type(value).__name__}>"
    if len(text) <= limit:
        return text
    return f"{text[: limit - 3]}... ({len(text):,} characters)"


def cut(text: str, limit: int = 120) -> str:
    """``text`` cut to ``limit`` characters (with the full length said) for messages."""
    return text if len(text) <= limit else f"{text[: limit - 3]}... ({len(text):,} characters)"


def _strict_value(value: Any, ann: Any, nonneg: bool, where: str = "") -> Any:
    """Check ``value`` against annotation ``ann`` without coercion; return it (NumPy scalars made plain).

    Strings never become numbers or booleans, booleans never numbers; integers may
    stand for floats. NaN and infinities are refused in every float, and -0.0 where
    the field cannot be negative (``nonneg``). Containers are checked element by
    element (``where`` names the entry in the message). Anything else is left to
    pydantic, whose own error then follows.
    """
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        value = value.item()
    origin = get_origin(ann)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in get_args(ann):
            return value
        inner = [a for a in get_args(ann) if a is not type(None)]
        return _strict_value(value, inner[0], nonneg, where) if len(inner) == 1 else value
    if origin is dict and isinstance(value, dict):
        sub = get_args(ann)[1]
        return {k: _strict_value(v, sub, True, f"{where}{k}.") for k, v in value.items()}
    if origin is list and isinstance(value, list):
        sub = get_args(ann)[0]
        return [_strict_value(v, sub, True, f"{where}[{i}].") for i, v in enumerate(value)]
    at = f"entry {where[:-1]}: " if where else ""
    if ann is float or ann is int:
        kind = "a valid number" if ann is float else "a valid integer"
        if isinstance(value, bool):
            raise ValueError(f"{at}Input should be {kind}, not a boolean (true/false)")
        if isinstance(value, (str, bytes)):
            raise ValueError(f"{at}Input should be {kind}, not a string (write 0.5, not \"0.5\")")
        if isinstance(value, float):
            if math.isnan(value):
                raise ValueError(f"{at}NaN is not allowed")
            if math.isinf(value):
                raise ValueError(f"{at}infinity is not allowed")
            if value == 0.0 and math.copysign(1.0, value) < 0 and nonneg:
                raise ValueError(f"{at}-0.0 is not allowed here (write 0.0)")
    elif ann is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{at}Input should be true or false (a TOML boolean), not {type(value).__name__}")
    elif ann is str:
        if not isinstance(value, str):
            raise ValueError(f"{at}Input should be a string (in quotes), not {type(value).__name__}")
    return value


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    @field_validator("*", mode="before")
    @classmethod
    def _strict_types(cls, value: Any, info: ValidationInfo) -> Any:
        """No silent coercion: see :func:`_strict_value`."""
        f = cls.model_fields.get(info.field_name or "")
        if f is None or isinstance(f.annotation, type) and issubclass(f.annotation, BaseModel):
            return value
        lo = next((m.ge for m in f.metadata if getattr(m, "ge", None) is not None), None)
        return _strict_value(value, f.annotation, lo is not None and lo >= 0)


def _f(default: Any, lo: float | None = None, hi: float | None = None, doc: str = "", **kw: Any) -> Any:
    """A documented field with an inclusive range."""
    return Field(default, ge=lo, le=hi, description=doc, **kw)
