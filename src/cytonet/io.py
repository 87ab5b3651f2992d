"""The edges where user data enters and results leave.

Writes are atomic: a reader never sees a half-written file, a failure leaves the old one intact.
Reads of user files go through :func:`read_user_text` / :func:`load_user_data`: size, encoding,
nesting-depth and value-count limits (``cytonet.limits``), YAML's safe loader, no duplicate keys.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` then rename the temporary file onto ``path``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual permissions
        os.replace(tmp_path, target)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return target


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write(path, lambda p: p.write_text(text))


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    return atomic_write(path, lambda p: p.write_bytes(data))


# -- reading what a user gives -------------------------------------------------------------------


def read_user_text(path: str | Path, what: str, max_bytes: int | None = None) -> str:
    """The UTF-8 text of a user file, or ``InputError`` (missing, a folder, too large, binary, not UTF-8)."""
    from cytonet.errors import InputError
    from cytonet.limits import MAX_INPUT_BYTES

    limit = MAX_INPUT_BYTES if max_bytes is None else max_bytes
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{what} {str(p)!r} is a folder; give a file")
    try:
        with open(p, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as err:
        raise InputError(f"{what} {str(p)!r}: cannot read it ({err.strerror or err})") from None
    if len(data) > limit:
        raise InputError(f"{what} {str(p)!r} is larger than {limit // 2**20} MiB; cytonet reads user files up to that size")
    if b"\0" in data:
        raise InputError(f"{what} {str(p)!r} is a binary file, not text; give a YAML or JSON file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(f"{what} {str(p)!r} is not UTF-8 text (byte {err.start}); save it as UTF-8") from None


def load_user_data(path: str | Path, what: str) -> Any:
    """Parse a user's YAML (or ``.json``) file within the size, depth and value-count limits."""
    p = Path(path)
    text = read_user_text(p, what)
    return parse_user_json(text, f"{what} {p}") if p.suffix.lower() == ".json" else parse_user_yaml(text, f"{what} {p}")


def parse_user_json(text: str, where: str) -> Any:
    """JSON text -> data; ``InputError`` for syntax, NaN/Infinity, or more depth or values than the limits."""
    import json

    from cytonet.errors import InputError

    def refuse_constant(name: str) -> Any:
        raise InputError(f"{where}: {name} is not a finite number; JSON numbers must be finite")

    try:
        data = json.loads(text, parse_constant=refuse_constant)
    except RecursionError:
        data = None
        _too_deep(where)
    except json.JSONDecodeError as err:
        raise InputError(f"{where}: not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})") from None
    _check_size(data, where)
    return data


def parse_user_yaml(text: str, where: str) -> Any:
    """YAML text -> plain data with the safe loader, refusing documents past the depth or value-count limits.

    Aliases are allowed (``yaml.safe_dump`` writes them for shared records) but each use counts
    as a copy of its anchor, so a "billion laughs" document is refused before anything expands it.
    Duplicate keys in one mapping are refused, since YAML would silently keep the last one.
    """
    from cytonet.errors import InputError

    try:
        node = yaml.compose(text, Loader=_LimitedLoader)
    except _Refused as err:
        raise InputError(f"{where}: {err}") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        at = f" line {mark.line + 1}:" if mark is not None else ""
        raise InputError(f"{where}:{at} not valid YAML ({getattr(err, 'problem', None) or err}); fix the syntax") from None
    if node is None:
        return None
    _count_nodes(node, where)
    loader = _LimitedLoader("")
    try:
        return loader.construct_document(node)
    except _Refused as err:
        raise InputError(f"{where}: {err}") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        at = f" line {mark.line + 1}:" if mark is not None else ""
        raise InputError(f"{where}:{at} {getattr(err, 'problem', None) or err}; cytonet reads plain YAML (no tags)") from None
    finally:
        loader.dispose()


class _Refused(Exception):
    """A document past a limit (turned into ``InputError`` with the file name)."""


def _too_deep(where: str) -> None:
    from cytonet.errors import InputError
    from cytonet.limits import MAX_INPUT_DEPTH

    raise InputError(f"{where}: nested deeper than {MAX_INPUT_DEPTH} levels; cytonet reads documents up to that depth")


class _LimitedLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that stops at :data:`~cytonet.limits.MAX_INPUT_DEPTH` and refuses duplicate keys."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        from cytonet.limits import MAX_INPUT_DEPTH

        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > MAX_INPUT_DEPTH:
                raise _Refused(f"nested deeper than {MAX_INPUT_DEPTH} levels; cytonet reads documents up to that depth")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                key = key_node.value
                if key in seen:
                    raise _Refused(f"key {key!r} appears twice in one mapping (line {key_node.start_mark.line + 1}); keep one")
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _count_nodes(root: Any, where: str) -> None:
    """Refuse a YAML node graph whose expansion (aliases copied out) has more than MAX_INPUT_NODES values."""
    from cytonet.errors import InputError
    from cytonet.limits import MAX_INPUT_NODES

    sizes: dict[int, int] = {}
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:  # iterative post-order over the DAG: each distinct node is sized once
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        if isinstance(node, yaml.ScalarNode):
            sizes[id(node)] = 1
            continue
        kids = [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else list(node.value)
        if children_done:
            total = 1 + sum(sizes.get(id(k), 0) for k in kids)
            if total > MAX_INPUT_NODES:
                raise InputError(f"{where}: expands to more than {MAX_INPUT_NODES:,} values (aliases counted each time they "
                                 "are used); cytonet reads documents up to that size")
            sizes[id(node)] = total
        else:
            stack.append((node, True))
            stack.extend((k, False) for k in kids if id(k) not in sizes)


def _check_size(data: Any, where: str) -> None:
    """Refuse parsed JSON deeper than MAX_INPUT_DEPTH or with more than MAX_INPUT_NODES values."""
    from cytonet.errors import InputError
    from cytonet.limits import MAX_INPUT_DEPTH, MAX_INPUT_NODES

    count, stack = 0, [(data, 1)]
    while stack:
        value, depth = stack.pop()
        count += 1
        if depth > MAX_INPUT_DEPTH:
            _too_deep(where)
        if count > MAX_INPUT_NODES:
            raise InputError(f"{where}: has more than {MAX_INPUT_NODES:,} values; cytonet reads documents up to that size")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
