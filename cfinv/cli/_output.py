"""
The AWS CLI's output formats: json, text, table, yaml and yaml-stream.

Written to print, byte for byte, what ``aws`` prints for the same response
(the conformance tests compare the two), without depending on awscli.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import shutil
import sys
import unicodedata
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

__all__ = ["OUTPUT_FORMATS", "Printer", "write_json"]

OUTPUT_FORMATS = ("json", "text", "table", "yaml", "yaml-stream")

# The ANSI codes the AWS CLI's colour table uses (bright blue values, dim yellow rules).
_VALUE_STYLE = ("\x1b[1m\x1b[34m", "\x1b[0m")
_INDENT_STYLE = ("\x1b[2m\x1b[33m", "\x1b[0m")


def _json_default(value: object) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("utf-8")
    msg = f"cannot print a {type(value).__name__} as JSON"
    raise TypeError(msg)


def write_json(data: Any, stream: IO[str]) -> None:
    """JSON as the AWS CLI prints it: four-space indent, non-ASCII kept."""
    stream.write(json.dumps(data, indent=4, ensure_ascii=False, default=_json_default))
    stream.write("\n")


# --- text ---------------------------------------------------------------------------------


def _is_scalar(value: object) -> bool:
    return not isinstance(value, (dict, list))


def _text(
    item: Any, out: list[str], identifier: str | None = None, keys: list[str] | None = None
) -> None:
    if isinstance(item, dict):
        _text_dict(item, out, identifier, keys)
    elif isinstance(item, list):
        _text_list(item, out, identifier)
    else:
        out.append(f"{item}\n")


def _text_list(items: list[Any], out: list[str], identifier: str | None) -> None:
    if not items:
        return
    if any(isinstance(el, dict) for el in items):
        dicts = [el for el in items if isinstance(el, dict)]
        keys = sorted({k for el in dicts for k, v in el.items() if _is_scalar(v)})
        for element in items:
            # The AWS CLI fails on a list mixing objects and other values; print them instead.
            _text(element, out, identifier, keys if isinstance(element, dict) else None)
        return
    scalars = [el for el in items if _is_scalar(el)]
    others = [el for el in items if not _is_scalar(el)]
    if scalars:
        if identifier is not None:
            out.extend(f"{identifier.upper()}\t{el}\n" for el in scalars)
        else:
            out.append("\t".join(str(el) for el in scalars) + "\n")
    for other in others:
        _text(other, out, identifier)


def _text_dict(
    item: dict[str, Any], out: list[str], identifier: str | None, keys: list[str] | None
) -> None:
    if keys is None:
        ordered = sorted(item.items())
        scalars = [str(v) for _, v in ordered if _is_scalar(v)]
        nested = [(k, v) for k, v in ordered if not _is_scalar(v)]
    else:
        scalars = [str(item.get(k, "")) for k in keys]
        nested = [(k, item[k]) for k in sorted(set(item) - set(keys))]
    if scalars:
        if identifier is not None:
            scalars.insert(0, identifier.upper())
        out.append("\t".join(scalars) + "\n")
    for key, value in nested:
        _text(value, out, key)


def format_text(data: Any) -> str:
    """The AWS CLI's ``--output text`` of one response (or page)."""
    out: list[str] = []
    _text(data, out)
    return "".join(out)


# --- table ----------------------------------------------------------------------------


def _width(text: object) -> int:
    # Wide and ambiguous East Asian characters take two columns, as in the AWS CLI.
    return sum(2 if unicodedata.east_asian_width(ch) in "WFA" else 1 for ch in str(text))


class _Section:
    def __init__(self, title: str = "", indent: int = 0) -> None:
        self.title = title
        self.indent = indent
        self.headers: list[str] = []
        self.rows: list[list[str]] = []
        self.widths: list[int] = []

    def _grow(self, cells: Iterable[object]) -> None:
        sizes = [_width(c) for c in cells]
        self.widths = (
            sizes
            if not self.widths
            else [max(a, b) for a, b in zip(self.widths, sizes, strict=False)]
        )

    def set_headers(self, headers: list[str]) -> None:
        self._grow(headers)
        self.headers = headers

    def add_row(self, row: list[Any]) -> None:
        cells = [str(c) for c in row]
        self.rows.append(cells)
        self._grow(cells)

    def column_widths(self, total: int | None = None) -> list[int]:
        natural = [w + 4 for w in self.widths]
        if total is None or not natural:
            return natural
        scale = total / float(sum(natural))
        scaled = [round(scale * w) for w in natural]
        excess = sum(scaled) - total
        while excess:
            order = range(len(scaled)) if excess > 0 else reversed(range(len(scaled)))
            for i in order:
                step = 1 if excess > 0 else -1
                scaled[i] -= step
                excess -= step
                if not excess:
                    break
        return scaled

    def needed_width(self) -> int:
        columns = sum(w + 4 for w in self.widths) + 2 + 2 * self.indent
        return max(_width(self.title) + 2 + 2 * self.indent, columns)


def _center(text: str, length: int, left: str = "|", right: str = "|") -> str:
    start = length // 2 - _width(text) // 2 - 1
    head = left + " " * start + text
    used = _width(left) + start + _width(text)
    return head + " " * (length - _width(right) - used) + right


def _left(text: str, length: int, left: str, right: str, styled: str | None = None) -> str:
    size = _width(text)
    padding = 2 if length - (size + 2 + len(left) + len(right)) >= 0 else 0
    used = len(left) + padding + size
    return left + " " * padding + (styled or text) + " " * (length - used - len(right)) + right


class _Table:
    """Renders a response as the AWS CLI's ``--output table``."""

    def __init__(self, *, color: bool, terminal_width: int) -> None:
        self.sections: list[_Section] = []
        self.color = color
        self.terminal_width = terminal_width

    def section(self, title: str, indent: int) -> _Section:
        current = _Section(title, indent)
        self.sections.append(current)
        return current

    def build(self, title: str | None, value: Any, indent: int = 0) -> bool:
        if not value:
            return False
        current = self.section(title, indent) if title is not None else self.sections[-1]
        if isinstance(value, list):
            if isinstance(value[0], dict):
                self._dicts(current, value, indent, title or "")
            else:
                for item in value:
                    if _is_scalar(item):
                        current.add_row([item])
                    elif all(_is_scalar(el) for el in item):
                        current.add_row(list(item))
                    else:
                        self.build(None, item)
        if isinstance(value, dict):
            self._dict(current, value, indent)
        return True

    def _dict(self, current: _Section, value: dict[str, Any], indent: int) -> None:
        headers = sorted(k for k, v in value.items() if _is_scalar(v))
        nested = sorted(k for k, v in value.items() if not _is_scalar(v))
        if len(headers) == 1:
            current.add_row([headers[0], value[headers[0]]])
        elif headers:
            current.set_headers(headers)
            current.add_row([value[k] for k in headers])
        for key in nested:
            self.build(key, value[key], indent + 1)

    def _dicts(
        self, current: _Section, items: list[dict[str, Any]], indent: int, title: str
    ) -> None:
        headers = sorted({k for el in items for k, v in el.items() if _is_scalar(v)})
        nested = sorted({k for el in items for k, v in el.items() if not _is_scalar(v)})
        current.set_headers(headers)
        for n, element in enumerate(items):
            if n and nested:
                current = self.section(title, indent)
                current.set_headers(headers)
            current.add_row([element.get(h, "") for h in headers])
            for key in nested:
                if key in element:
                    self.build(key, element[key], indent + 1)

    def _verticalize(self) -> None:
        for i, section in enumerate(self.sections):
            if len(section.rows) == 1 and section.headers:
                vertical = _Section(section.title, section.indent)
                for header, cell in zip(section.headers, section.rows[0], strict=False):
                    vertical.add_row([header, cell])
                self.sections[i] = vertical

    def render(self) -> str:
        width = max(s.needed_width() for s in self.sections)
        if width > self.terminal_width:
            self._verticalize()
            width = max(s.needed_width() for s in self.sections)
        lines = ["-" * width + "\n"]
        for section in self.sections:
            lines.extend(self._render(section, width))
        return "".join(lines)

    def _style(self, text: str, style: tuple[str, str]) -> str:
        return f"{style[0]}{text}{style[1]}" if self.color else text

    def _render(self, section: _Section, total: int) -> list[str]:
        bar = self._style("|", _INDENT_STYLE)
        outer_l, outer_r = bar * section.indent, bar * section.indent
        width = total - 2 * section.indent
        out: list[str] = []

        def line(text: str) -> None:
            out.append(outer_l + text + outer_r + "\n")

        def rule(widths: list[int]) -> None:
            parts = [
                "+" + "-" * (w - 2) + "+" if n == 0 else "-" * (w - 1) + "+"
                for n, w in enumerate(widths)
            ]
            line("".join(parts))

        if section.title:
            line(_center(section.title, width))
            if not section.headers and not section.rows:
                line("+" + "-" * (width - 2) + "+")
        if section.headers:
            widths = section.column_widths(width)
            rule(widths)
            line(
                "".join(
                    _center(h, w, "|" if n == 0 else "", "|")
                    for n, (w, h) in enumerate(zip(widths, section.headers, strict=False))
                )
            )
        if section.rows:
            widths = section.column_widths(width)
            if widths:
                rule(widths)
                for row in section.rows:
                    line(
                        "".join(
                            _left(c, w, "|" if n == 0 else "", "|", self._style(c, _VALUE_STYLE))
                            for n, (w, c) in enumerate(zip(widths, row, strict=False))
                        )
                    )
                rule(widths)
        return out


def _terminal_width() -> int:
    if not sys.stdout.isatty():
        return 80  # the AWS CLI's width when it cannot ask a terminal
    return shutil.get_terminal_size((80, 24)).columns


def format_table(title: str, data: Any, *, color: bool) -> str:
    """The AWS CLI's ``--output table``; empty when there is nothing to show."""
    table = _Table(color=color, terminal_width=_terminal_width())
    if not table.build(title, data):
        return ""
    return table.render()


# --- yaml -----------------------------------------------------------------------------------


def _yaml() -> Any:
    try:
        import yaml
    except ImportError:
        from cfinv.cli._errors import UsageError

        msg = "--output yaml needs PyYAML: pip install 'cfinv[cli]'"
        raise UsageError(msg, code="config") from None
    return yaml


def format_yaml(data: Any) -> str:
    """YAML in the key order of the response (AWS CLI v2's ``--output yaml``)."""
    if data is None:
        return "null\n...\n"
    return str(
        _yaml().safe_dump(
            json.loads(json.dumps(data, default=_json_default)),
            default_flow_style=False,
            sort_keys=False,
            allow_unicode=True,
        )
    )


# --- the printer ------------------------------------------------------------------------------


class Printer:
    """
    Prints responses in the chosen ``--output`` format, applying ``--query``.

    Args:
        output: One of `OUTPUT_FORMATS`.
        query: A compiled JMESPath expression, or None.
        color: ``on``, ``off`` or ``auto`` (colour only matters for tables).
        stream: Where to print (stdout by default).
        terminal: Whether the output ends on a terminal (colour with ``auto``);
            by default, whether ``stream`` is one.  A pager's input is not a
            terminal, but what it shows is.
    """

    def __init__(
        self,
        output: str,
        query: Any,
        color: str,
        stream: IO[str] | None = None,
        *,
        terminal: bool | None = None,
    ) -> None:
        self.output = output
        self.query = query
        self.stream = stream or sys.stdout
        tty = terminal
        if tty is None:
            tty = self.stream.isatty() if hasattr(self.stream, "isatty") else False
        self.color = color == "on" or (color == "auto" and tty and "NO_COLOR" not in os.environ)

    def _search(self, data: Any) -> Any:
        return self.query.search(data) if self.query is not None else data

    def response(self, title: str, data: Any) -> None:
        """Print one (non-paginated) response."""
        if isinstance(data, dict):
            data = {k: v for k, v in data.items() if k != "ResponseMetadata"}
        data = self._search(data)
        if self.output == "json":
            if data != {}:
                write_json(data, self.stream)
        elif self.output == "text":
            self.stream.write(format_text(data))
        elif self.output == "table":
            self.stream.write(format_table(title, data, color=self.color))
        elif self.output == "yaml":
            self.stream.write(format_yaml(data))
        else:  # yaml-stream: a list of documents, here just one
            self.stream.write(format_yaml([data]))
        self.stream.flush()

    def pages(
        self,
        title: str,
        full_result: Callable[[], Any],
        pages: Iterable[Any],
    ) -> None:
        """
        Print a paginated response as the AWS CLI does for each format.

        json, table and yaml print the merged result; text and yaml-stream
        print each page as it arrives.

        Args:
            title: The operation name (the table's title).
            full_result: Builds the merged result (botocore's ``build_full_result``).
            pages: The pages as dicts, each already holding only the result keys
                (and a final ``NextToken`` page when truncated).
        """
        if self.output in {"json", "table", "yaml"}:
            self.response(title, full_result())
            return
        for page in pages:
            data = self._search(page)
            if self.output == "text":
                self.stream.write(format_text(data))
            else:
                self.stream.write(format_yaml([data]))
            self.stream.flush()
