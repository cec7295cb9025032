"""
Parameter values as the AWS CLI reads them: ``file://``, JSON, shorthand, ``--cli-input-json``.

The shorthand syntax is the AWS CLI's: ``Key=value,Key2={Nested=1},List=[a,b]``;
a list may also be written without brackets (``Items=/a,/b``) where the model
says the member is a list.  Values are coerced to the model's types.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from cfinv.cli._errors import UsageError

__all__ = ["load_value", "parse_shorthand", "parse_structure", "skeleton"]

_UNESCAPED_COMMA = re.compile(r"(?<!\\),")

# The shape of an InvalidationBatch, enough to type shorthand values.
# (member -> "string" | "integer" | a nested dict | [element shape])
INVALIDATION_BATCH: dict[str, Any] = {
    "Paths": {"Quantity": "integer", "Items": ["string"]},
    "CallerReference": "string",
}


def load_value(value: str, option: str) -> str:
    """Resolve ``file://path`` (and ``fileb://``) to the file's text, as the AWS CLI does."""
    for prefix in ("file://", "fileb://"):
        if value.startswith(prefix):
            path = Path(value[len(prefix) :]).expanduser()
            try:
                return path.read_text(encoding="utf-8")
            except OSError as exc:
                msg = f"Error parsing parameter '{option}': Unable to load paramfile {value}: {exc}"
                raise UsageError(msg) from None
            except UnicodeDecodeError as exc:
                msg = (
                    f"Error parsing parameter '{option}': Unable to load paramfile {value}: "
                    f"the file could not be decoded as UTF-8 (byte {exc.start})"
                )
                raise UsageError(msg) from None
    return value


class _Shorthand:
    def __init__(self, text: str, option: str) -> None:
        self.text = text
        self.pos = 0
        self.option = option

    def fail(self, what: str, *, after: str = "") -> UsageError:
        pointer = " " * self.pos + "^"
        tail = f"\n{after}" if after else ""
        return UsageError(
            f"Error parsing parameter '{self.option}': {what} for input:\n"
            f"{self.text}\n{pointer}{tail}"
        )

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_spaces(self) -> None:
        while self.peek().isspace():
            self.pos += 1

    def structure(self, shape: Any, closing: str = "") -> dict[str, Any]:
        result: dict[str, Any] = {}
        while True:
            self.skip_spaces()
            start = self.pos
            key = self.key()
            member = shape.get(key) if isinstance(shape, dict) else None
            if isinstance(shape, dict) and member is None:
                valid = ", ".join(shape)
                raise self.fail(f"Unknown key {key!r}, valid keys are: {valid}")
            if key in result:
                self.pos = start
                raise self.fail(
                    f'Second instance of key "{key}" encountered',
                    after='This is often because there is a preceding "," instead of a space.',
                )
            result[key] = self.value(member, closing)
            self.skip_spaces()
            if self.peek() == ",":
                self.pos += 1
                continue
            return result

    def key(self) -> str:
        start = self.pos
        while self.peek() and self.peek() not in "=,{}[]":
            self.pos += 1
        key = self.text[start : self.pos].strip()
        if not key or self.peek() != "=":
            raise self.fail("Expected: '=', received: " + repr(self.peek() or "end of input"))
        self.pos += 1
        return key

    def value(self, shape: Any, closing: str) -> Any:
        self.skip_spaces()
        char = self.peek()
        if char == "{":
            self.pos += 1
            inner = self.structure(shape if isinstance(shape, dict) else {}, "}")
            self.expect("}")
            return inner
        if char == "[":
            self.pos += 1
            items = self.items(shape[0] if isinstance(shape, list) else None, "]")
            self.expect("]")
            return items
        if isinstance(shape, list):
            # A list without brackets runs until the next `Key=` or the end.
            return self.items(shape[0], closing, bare=True)
        return _coerce(self.scalar(closing), shape, self)

    def items(self, shape: Any, closing: str, *, bare: bool = False) -> list[Any]:
        """Elements up to ``]`` (or, ``bare``, up to the next ``Key=`` or ``closing``)."""
        values: list[Any] = []
        while True:
            self.skip_spaces()
            if not bare and self.peek() == closing:
                return values
            if self.peek() == "{":
                self.pos += 1
                values.append(self.structure(shape if isinstance(shape, dict) else {}, "}"))
                self.expect("}")
            else:
                values.append(_coerce(self.scalar(closing), shape, self))
            self.skip_spaces()
            if self.peek() != ",":
                return values
            if bare and self._next_is_key():
                return values
            self.pos += 1

    def _next_is_key(self) -> bool:
        rest = self.text[self.pos + 1 :]
        head = _UNESCAPED_COMMA.split(rest, maxsplit=1)[0]
        return "=" in head and not head.lstrip().startswith(("'", '"'))

    def scalar(self, closing: str) -> str:
        r"""
        One value: quoted (``\'`` or ``\"`` and ``\\`` escape inside), or bare.

        A bare value runs to the next ``,`` (or ``closing``); ``\,`` is a comma
        inside it, as in the AWS CLI.
        """
        self.skip_spaces()
        quote = self.peek()
        if quote in {"'", '"'}:
            chars: list[str] = []
            self.pos += 1
            while True:
                char = self.peek()
                if not char:
                    raise self.fail(f"Unterminated quote {quote}")
                self.pos += 1
                if char == "\\" and self.peek() in {quote, "\\"}:
                    chars.append(self.peek())
                    self.pos += 1
                elif char == quote:
                    return "".join(chars)
                else:
                    chars.append(char)
        chars = []
        stops = "," + (closing or "")
        while self.peek() and self.peek() not in stops:
            if self.peek() == "\\" and self.text[self.pos + 1 : self.pos + 2] == ",":
                self.pos += 1  # an escaped comma belongs to the value
            chars.append(self.peek())
            self.pos += 1
        return "".join(chars).strip()

    def expect(self, char: str) -> None:
        self.skip_spaces()
        if self.peek() != char:
            raise self.fail(f"Expected: '{char}', received: {self.peek() or 'end of input'!r}")
        self.pos += 1


def _coerce(value: str, shape: Any, parser: _Shorthand) -> Any:
    if shape == "integer":
        try:
            return int(value)
        except ValueError:
            raise parser.fail(f"Expected an integer, got {value!r}") from None
    return value


def parse_shorthand(text: str, shape: dict[str, Any], option: str) -> dict[str, Any]:
    """
    Parse the AWS CLI's shorthand syntax for a structure of ``shape``.

    Raises:
        UsageError: The text is not valid shorthand for the shape.
    """
    parser = _Shorthand(text, option)
    result = parser.structure(shape)
    parser.skip_spaces()
    if parser.pos != len(text):
        raise parser.fail(f"Unexpected {parser.peek()!r}")
    return result


def parse_structure(value: str, shape: dict[str, Any], option: str) -> dict[str, Any]:
    """
    A structure parameter as the AWS CLI reads it: JSON (starting with ``{``) or shorthand.

    ``file://`` must already be resolved (see `load_value`).
    """
    if value.lstrip().startswith("{"):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as exc:
            msg = f"Error parsing parameter '{option}': Invalid JSON: {exc}\nJSON received: {value}"
            raise UsageError(msg) from None
        if not isinstance(parsed, dict):
            msg = f"Error parsing parameter '{option}': expected a JSON object, got {value!r}"
            raise UsageError(msg)
        return parsed
    return parse_shorthand(value, shape, option)


def skeleton(shape: Any, *, sample: bool = False, name: str = "") -> Any:
    """
    The AWS CLI's ``--generate-cli-skeleton`` placeholder for a shape.

    Inputs get empty values; a ``sample`` answer (``output``) gets values of
    the right type, as the AWS CLI prints them: a string is its member's name
    (``"string"`` in a list), a timestamp is the epoch.
    """
    if isinstance(shape, dict):
        return {key: skeleton(member, sample=sample, name=key) for key, member in shape.items()}
    if isinstance(shape, list):
        return [skeleton(shape[0], sample=sample, name="string")]
    if shape == "integer":
        return 0
    if shape == "boolean":
        return True
    if not sample:
        return ""
    return "1970-01-01T00:00:00" if shape == "timestamp" else name
