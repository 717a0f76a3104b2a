"""Reading the YAML files users write (assumption sets, client profiles, clients lists, settings).

One way to read them, so that every kind of file fails the same way (one line naming the file and the
problem, never a parser traceback) and so that no file, however hostile, can make imgout hang or run out
of memory:

- only a regular file is read (a FIFO, ``/dev/zero`` or a folder is refused without reading from it), and
  at most :data:`DEFAULT_MAX_BYTES` (1 MiB; ``IMGOUT_YAML_MAX_BYTES`` sets another limit);
- aliases may repeat what the file holds, but the document with every alias expanded may be at most
  :data:`EXPANSION_FACTOR` times the size limit (a "billion laughs" file is refused before anything
  walks it), and may not refer to itself;
- a mapping may not give the same key twice (YAML would silently keep the last);
- integers have at most :data:`MAX_INTEGER_DIGITS` digits, texts at most :data:`MAX_TEXT_LENGTH`
  characters, nesting at most :data:`MAX_DEPTH` levels.

What the values mean is checked by each file's own reader, which checks types before it turns anything
into text.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import ImgoutError, InputError

#: Makes the user's error for a file from (where in the file, the problem); where may be "".
ErrorFactory = Callable[[str, str], ImgoutError]

MAX_BYTES_VAR = "IMGOUT_YAML_MAX_BYTES"
DEFAULT_MAX_BYTES = 1_048_576
#: The limits ``IMGOUT_YAML_MAX_BYTES`` may be set within.
MAX_BYTES_RANGE = (1_024, 1_073_741_824)
#: The document with its aliases expanded may be this many times the size limit (characters + values).
EXPANSION_FACTOR = 2
MAX_INTEGER_DIGITS = 30
MAX_TEXT_LENGTH = 100_000
MAX_DEPTH = 64

_INT_TAG = "tag:yaml.org,2002:int"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C parser when PyYAML has it: faster start


def max_bytes(env: dict[str, str] | None = None) -> int:
    """The size limit for a YAML file: ``IMGOUT_YAML_MAX_BYTES`` or 1 MiB."""
    raw = (os.environ if env is None else env).get(MAX_BYTES_VAR, "").strip()
    if not raw:
        return DEFAULT_MAX_BYTES
    low, high = MAX_BYTES_RANGE
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise InputError(
            f"Invalid {MAX_BYTES_VAR}: {raw[:40]!r} (expected a whole number of bytes from {low:,} to {high:,})"
        )
    return int(raw)


def read_user_file(
    path: str | Path, error: ErrorFactory, limit: int | None = None, expected: str = "a YAML file"
) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (default :func:`max_bytes`); a user error else.

    The file is opened without blocking (a FIFO with no writer does not hang) and checked to be a regular
    file before anything is read from it; ``expected`` names what it should be, in the errors.
    """
    limit = max_bytes() if limit is None else limit
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise error("", "file not found") from None
    except IsADirectoryError:
        raise error("", f"is a folder, expected {expected}") from None
    except OSError as exc:
        raise error("", f"cannot be read ({exc.strerror or exc})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise error("", f"is a folder, expected {expected}")
        if not stat.S_ISREG(info.st_mode):
            raise error("", f"is not a regular file ({_file_kind(info.st_mode)}), expected {expected}")
        if info.st_size > limit:
            raise error("", _too_big(info.st_size, limit))
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 16, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:  # it grew while being read
            raise error("", _too_big(size, limit))
        return b"".join(chunks)
    except OSError as exc:
        raise error("", f"cannot be read ({exc.strerror or exc})") from None
    finally:
        os.close(fd)


def _too_big(size: int, limit: int) -> str:
    return f"is larger than {limit:,} bytes ({size:,} or more; {MAX_BYTES_VAR} sets the limit)"


def _file_kind(mode: int) -> str:
    for test, kind in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a device"),
        (stat.S_ISBLK, "a device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return kind
    return "not an ordinary file"


def read_yaml_mapping(path: str | Path, error: ErrorFactory) -> dict[str, Any]:
    """Read a YAML file that must hold a mapping of keys (an empty file is an empty mapping)."""
    limit = max_bytes()
    data = read_user_file(path, error, limit)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise error("", "not UTF-8 text, expected a YAML file") from None
    return parse_yaml_mapping(text, error, limit)


def parse_yaml_mapping(text: str, error: ErrorFactory, limit: int | None = None) -> dict[str, Any]:
    """Parse YAML text that must hold a mapping of keys; a syntax error names its line.

    The same limits as for a file apply (``limit`` characters, default :func:`max_bytes`).
    """
    limit = max_bytes() if limit is None else limit
    if len(text) > limit:
        raise error("", _too_big(len(text), limit))
    loader = _LOADER(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return {}
        _check_nodes(node, error, limit * EXPANSION_FACTOR)
        data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}" if mark is not None else ""
        problem = " ".join(str(getattr(exc, "problem", None) or "malformed").split())
        raise error(line, f"not valid YAML ({problem})") from None
    except RecursionError:
        raise error("", f"nested more than {MAX_DEPTH} levels deep") from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise error("", f"expected a mapping of keys at the top, got {describe(data)}")
    return data


def _line(node: Node) -> str:
    return f"line {node.start_mark.line + 1}"


def _check_nodes(root: Node, error: ErrorFactory, budget: int) -> None:
    """Check the document's node graph before anything is built from it (see the module docstring).

    Walks the graph without recursion; ``size`` holds each node's expanded size (characters of its
    scalars plus one per value), computed once per node however many aliases point at it.
    """
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Node, int, bool]] = [(root, 1, False)]
    keys = yaml.constructor.SafeConstructor()
    while stack:
        node, depth, children_done = stack.pop()
        ident = id(node)
        if children_done:
            on_path.discard(ident)
            children = _children(node)
            total = 1 + sum(size[id(child)] for child in children)
            if total > budget:
                raise error(
                    _line(node),
                    f"its aliases expand to more than {budget:,} characters (an alias bomb?); "
                    f"{MAX_BYTES_VAR} sets the limit",
                )
            size[ident] = total
            continue
        if ident in size:
            continue
        if ident in on_path:
            raise error(_line(node), "an alias refers to the value that contains it")
        if depth > MAX_DEPTH:
            raise error(_line(node), f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, ScalarNode):
            size[ident] = 1 + _check_scalar(node, error)
            continue
        if isinstance(node, MappingNode):
            _check_keys(node, keys, error)
        on_path.add(ident)
        stack.append((node, depth, True))
        stack.extend((child, depth + 1, False) for child in _children(node))


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _check_scalar(node: ScalarNode, error: ErrorFactory) -> int:
    value = str(node.value)
    if len(value) > MAX_TEXT_LENGTH:
        raise error(_line(node), f"a text of {len(value):,} characters (at most {MAX_TEXT_LENGTH:,})")
    if node.tag == _INT_TAG and sum(ch.isdigit() for ch in value) > MAX_INTEGER_DIGITS:
        raise error(_line(node), f"a number of more than {MAX_INTEGER_DIGITS} digits")
    return len(value)


def _check_keys(node: MappingNode, keys: yaml.constructor.SafeConstructor, error: ErrorFactory) -> None:
    seen: set[tuple[type, Any]] = set()
    for key_node, _ in node.value:
        if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE_TAG:
            continue
        _check_scalar(key_node, error)
        key = keys.construct_object(key_node, deep=True)
        marker = (type(key), key)
        if marker in seen:
            raise error(
                _line(key_node), f"the key {str(key)[:80]!r} is given twice (YAML would keep only the last)"
            )
        seen.add(marker)


def describe(value: Any) -> str:
    """How a wrong value is shown in an error: its text (cut to 80 characters) and what it is."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{value!r} (true/false)"
    if isinstance(value, str):
        return f"text {shorten(value)!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, int | float):
        try:
            return shorten(repr(value))
        except ValueError:  # an integer of thousands of digits cannot even be shown
            return "a number of thousands of digits"
    return f"a {type(value).__name__}"


def shorten(text: str, limit: int = 80) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis, so that an error stays one readable line."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
