"""The edges where user data enters and results leave.

Writes are atomic: a reader never sees a half-written file, a failure leaves the old one intact.
Reads of user files go through :func:`read_user_text` / :func:`load_user_data`: size, encoding,
nesting-depth and value-count limits (``cytonet.limits``), YAML's safe loader, no duplicate keys.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
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
    return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def atomic_write_csv(path: str | Path, header: list[str], rows: Iterable[Iterable[Any]]) -> Path:
    """A CSV table (the header, then ``rows``; LF line ends), written atomically."""
    text = io.StringIO()
    w = csv.writer(text, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return atomic_write_text(path, text.getvalue())


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


#: YAML documents from this size on keep their parse in the cache folder (the reference network's 110 kB take about
#: 0.4 s of CPU to parse with the limited loader, 2 ms to read back as JSON)
PARSED_CACHE_MIN_BYTES = 16_384


def parse_user_yaml(text: str, where: str) -> Any:
    """YAML text -> plain data with the safe loader, refusing documents past the depth or value-count limits.

    Aliases are allowed (``yaml.safe_dump`` writes them for shared records) but each use counts
    as a copy of its anchor, so a "billion laughs" document is refused before anything expands it.
    Duplicate keys in one mapping are refused, since YAML would silently keep the last one.
    A large document's parse is kept as JSON in the cache folder, named by the SHA-256 of cytonet's
    version and the text, and read back through the JSON limits (:func:`_cached_parse`).
    """
    if len(text) < PARSED_CACHE_MIN_BYTES:
        return _parse_yaml(text, where)
    return _cached_parse(text, where)


def _cached_parse(text: str, where: str) -> Any:
    """:func:`_parse_yaml` of ``text``, read from the cache when it holds this text's parse (same key, same version),
    else parsed and written there atomically when its values are plain JSON (string keys, finite numbers)."""
    import hashlib
    import json

    from cytonet import __version__
    from cytonet.errors import InputError
    from cytonet.cache_folder import cache_dir

    folder = cache_dir()
    key = hashlib.sha256(f"{__version__}\0{text}".encode()).hexdigest()
    path = None if folder is None else folder / "parsed" / f"{key}.json"
    if path is not None and path.is_file():
        try:
            held = parse_user_json(read_user_text(path, "cached parse"), f"cached parse of {where}")
        except InputError:
            held = None  # unreadable or refused: parse again and replace it
        if isinstance(held, dict) and held.get("key") == key and "data" in held:
            return held["data"]
    data = _parse_yaml(text, where)
    if path is not None and _plain_json(data):
        try:
            atomic_write_text(path, json.dumps({"key": key, "data": data}, allow_nan=False))
        except OSError:
            pass  # a read-only cache folder: parse every time
    return data


def _plain_json(data: Any) -> bool:
    """Whether ``data`` survives a JSON round trip unchanged: dicts with string keys, lists, strings, bools, ints,
    finite floats and None only (YAML also gives dates, integer keys and NaN)."""
    import math

    stack = [data]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            if not all(isinstance(k, str) for k in v):
                return False
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, float):
            if not math.isfinite(v):
                return False
        elif not (v is None or isinstance(v, (str, int))):
            return False
    return True


def _parse_yaml(text: str, where: str) -> Any:
    """:func:`parse_user_yaml` without the cache."""
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


# -- writing where a user points -----------------------------------------------------------------

#: the file that marks a folder as written by cytonet, with the kind of run (simulate, treat, demo, …)
RUN_MARK = ".cytonet-run.json"


def run_kind(folder: str | Path) -> str | None:
    """The kind of cytonet run ``folder`` holds (from its :data:`RUN_MARK`), or None."""
    from cytonet.errors import InputError

    mark = Path(folder) / RUN_MARK
    if not mark.is_file():
        return None
    try:
        data = parse_user_json(read_user_text(mark, "run mark", max_bytes=4096), str(mark))
    except InputError:
        return None
    kind = data.get("kind") if isinstance(data, dict) else None
    return kind if isinstance(kind, str) else None


def mark_run(folder: str | Path, kind: str) -> Path:
    """Mark ``folder`` as a cytonet run of ``kind`` (so a later run of the same kind may replace it)."""
    import json

    from cytonet import __version__

    return atomic_write_text(Path(folder) / RUN_MARK, json.dumps({"kind": kind, "cytonet_version": __version__}) + "\n")


def check_output_folder(out: str | Path, kind: str, overwrite: bool = False, option: str = "--out") -> None:
    """Refuse an output folder that is a file, cannot be created, or holds files cytonet did not write for ``kind``."""
    from cytonet.errors import OutputError

    p = Path(out)
    if p.exists() and not p.is_dir():
        raise OutputError(f"{option} {str(p)!r} is a file; give a folder (new, empty, or an earlier '{kind}' run)")
    _check_parent(p, option)
    if not p.is_dir() or overwrite:
        return
    try:
        entries = sorted(e.name for e in p.iterdir())
    except OSError as err:
        raise OutputError(f"{option} {str(p)!r}: cannot list it ({err.strerror}); give another folder") from None
    found = run_kind(p)
    if entries and found != kind:
        what = f"a '{found}' run" if found else f"files cytonet did not write ({', '.join(entries[:3])}{', …' if len(entries) > 3 else ''})"
        raise OutputError(f"{option} {str(p)!r} holds {what}; give a new or empty folder, or add --overwrite to replace "
                          "those of its files this command writes")


def check_new_file(path: str | Path, overwrite: bool = False, option: str = "output file") -> None:
    """Refuse an output file that exists (unless ``overwrite``), is a folder, or sits where no file can be made."""
    from cytonet.errors import OutputError

    p = Path(path)
    if p.is_dir():
        raise OutputError(f"{option} {str(p)!r} is a folder; give a file name, e.g. {str(p / 'out')!r}")
    if p.exists() and not overwrite:
        raise OutputError(f"{option} {str(p)!r} already exists and cytonet did not write it; give a new name or add --overwrite")
    _check_parent(p, option)


def _check_parent(p: Path, option: str) -> None:
    """The nearest existing ancestor of ``p`` must be a writable folder."""
    from cytonet.errors import OutputError

    parent = p.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(f"{option} {str(p)!r}: {str(parent)!r} is a file, not a folder; give a path under a folder")
    try:  # permissions alone do not tell (root, read-only or virtual file systems): try it
        fd, probe = tempfile.mkstemp(prefix=".cytonet-probe.", dir=parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise OutputError(f"{option} {str(p)!r}: cannot write in {str(parent)!r} ({err.strerror}); give a writable folder") from None


@contextmanager
def staged_folder(out: str | Path, kind: str, overwrite: bool = False, option: str = "--out") -> Iterator[Path]:
    """Write a run into a temporary sibling of ``out`` and move it into place only when complete.

    Checked first (:func:`check_output_folder`), so a refused folder costs nothing. On success the
    folder is marked as a ``kind`` run and renamed onto ``out`` (an earlier run of the same kind is
    replaced whole; with ``overwrite`` only the entries written replace theirs). On any failure or
    interrupt the temporary folder is removed and ``out`` is untouched.
    """
    tmp = begin_staged(out, kind, overwrite, option)
    try:
        yield tmp
        commit_staged(tmp, out, kind)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def begin_staged(out: str | Path, kind: str, overwrite: bool = False, option: str = "--out") -> Path:
    """Check ``out`` and create its temporary sibling (removed at exit unless :func:`commit_staged` moved it)."""
    import atexit

    from cytonet.errors import OutputError

    target = Path(out)
    check_output_folder(target, kind, overwrite, option)
    try:
        target.absolute().parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.absolute().parent))
    except OSError as err:
        raise OutputError(f"{option} {str(target)!r}: cannot create it ({err.strerror}); give a writable folder") from None
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    return tmp


def commit_staged(tmp: Path, out: str | Path, kind: str) -> Path:
    """Mark the finished temporary folder as a ``kind`` run and move it onto ``out``."""
    mark_run(tmp, kind)
    os.chmod(tmp, 0o777 & ~_umask())
    _move_into_place(tmp, Path(out))
    return Path(out)


def _move_into_place(tmp: Path, target: Path) -> None:
    if not target.exists() or (target.is_dir() and not any(target.iterdir())):
        os.replace(tmp, target)  # onto nothing or an empty folder: one atomic rename
        return
    if run_kind(target) == run_kind(tmp):  # an earlier run of the same kind: swap it out whole
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
        os.replace(target, old / "run")
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
        return
    for entry in sorted(tmp.iterdir()):  # --overwrite of a foreign folder: replace only what this run wrote
        dest = target / entry.name
        if dest.is_dir() and not dest.is_symlink():
            shutil.rmtree(dest)
        os.replace(entry, dest)
