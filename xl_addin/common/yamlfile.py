"""Reading the YAML files users write (assumption sets, client profiles, clients lists, settings).

One way to read them, so that every kind of file fails the same way: one line naming the file and the
problem, never a parser traceback.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from ..errors import ImgoutError

#: Makes the user's error for a file from (where in the file, the problem); where may be "".
ErrorFactory = Callable[[str, str], ImgoutError]


def read_yaml_mapping(path: str | Path, error: ErrorFactory) -> dict[str, Any]:
    """Read a YAML file that must hold a mapping of keys (an empty file is an empty mapping)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error("", "file not found") from None
    except IsADirectoryError:
        raise error("", "is a folder, expected a YAML file") from None
    except UnicodeDecodeError:
        raise error("", "not UTF-8 text, expected a YAML file") from None
    except OSError as exc:
        raise error("", f"cannot be read ({exc.strerror})") from None
    return parse_yaml_mapping(text, error)


class _UniqueKeys(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The safe loader (the C parser when PyYAML has it: faster start) refusing a key given twice in one
    mapping, which YAML would otherwise settle silently by keeping the last."""


def _mapping_once(loader: Any, node: Any) -> dict[Any, Any]:
    first: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *defaults` may be overridden by design
            continue
        key = loader.construct_object(key_node)
        with contextlib.suppress(TypeError):  # an unhashable key fails below, as YAML reports it
            if key in first:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"the key {key!r} is given twice (first on line {first[key] + 1})",
                    key_node.start_mark,
                )
            first[key] = key_node.start_mark.line
    return dict(loader.construct_mapping(node))


_UniqueKeys.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_once)


def parse_yaml_mapping(text: str, error: ErrorFactory) -> dict[str, Any]:
    """Parse YAML text that must hold a mapping of keys; a syntax error (or a key given twice) names its line."""
    try:
        data = yaml.load(text, Loader=_UniqueKeys)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}" if mark is not None else ""
        raise error(line, f"not valid YAML ({getattr(exc, 'problem', None) or 'malformed'})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise error("", f"expected a mapping of keys at the top, got {describe(data)}")
    return data


def describe(value: Any) -> str:
    """How a wrong value is shown in an error: its text and what it is, in the user's words."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{value!r} (true/false)"
    if isinstance(value, str):
        return f"text {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return repr(value)
