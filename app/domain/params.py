"""Declared parameters: one declaration drives the form, the API validation and the docs."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Param:
    """One tunable of a model kind, with its bounds (which also protect the machine)."""

    name: str
    type: type  # int | float | bool | str
    default: Any
    help: str
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    label: str = ""
    # For string params naming something in the registry: "dataset:<kind>" or "version:<kind>".
    ref: str = ""

    def to_json(self) -> dict[str, Any]:
        """The declaration as JSON, for the API's /kinds and the generated form."""
        out: dict[str, Any] = {
            "name": self.name,
            "type": {int: "integer", float: "number", bool: "boolean", str: "string"}[self.type],
            "default": self.default,
            "help": self.help,
            "label": self.label or self.name.replace("_", " ").capitalize(),
        }
        if self.min is not None:
            out["minimum"] = self.min
        if self.max is not None:
            out["maximum"] = self.max
        if self.choices:
            out["enum"] = list(self.choices)
        if self.ref:
            out["ref"] = self.ref
        return out

    def coerce(self, raw: Any) -> Any:
        """Turn a JSON or form value into this parameter's type, or raise ValueError with a reason."""
        if self.type is bool:
            if isinstance(raw, bool):
                return raw
            if isinstance(raw, str) and raw.lower() in {"true", "on", "1", "yes"}:
                return True
            if isinstance(raw, str) and raw.lower() in {"false", "off", "0", "no", ""}:
                return False
            raise ValueError("must be true or false")
        if self.type is int:
            if isinstance(raw, bool):
                raise ValueError("must be an integer")
            if isinstance(raw, int):
                value: Any = raw
            elif isinstance(raw, float) and raw.is_integer():
                value = int(raw)
            elif isinstance(raw, str) and raw.strip().lstrip("+-").isdigit():
                value = int(raw.strip())
            else:
                raise ValueError(f"must be an integer, got {raw!r}")
        elif self.type is float:
            if isinstance(raw, bool):
                raise ValueError("must be a number")
            try:
                value = float(raw)
            except (TypeError, ValueError, OverflowError):
                raise ValueError(f"must be a number, got {raw!r}") from None
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError("must be a finite number")
        else:
            if not isinstance(raw, str):
                raise ValueError("must be a string")
            value = raw.strip()
            if len(value) > 256:
                raise ValueError("must be at most 256 characters")
        if self.choices and value not in self.choices:
            raise ValueError(f"must be one of {', '.join(self.choices)}")
        if self.min is not None and value < self.min:
            raise ValueError(f"must be between {self.min:g} and {self.max:g}" if self.max is not None
                             else f"must be at least {self.min:g}")
        if self.max is not None and value > self.max:
            raise ValueError(f"must be between {self.min:g} and {self.max:g}" if self.min is not None
                             else f"must be at most {self.max:g}")
        return value
