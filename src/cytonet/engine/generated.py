"""Generated numba modules: written once into the cytonet cache folder, imported by name, compiled with numba's disk cache.

A module's name is a hash of its source (and of the generator's version), so a changed source is a
new module and a stale one is never loaded. The source comes from a compiled model's integer
indices and float coefficients and from cytonet's own kernels, never from user text.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import threading
from pathlib import Path
from types import ModuleType

LOCK = threading.RLock()
_LOADED: dict[str, ModuleType] = {}


def folders() -> list[Path]:
    """Where generated modules go: the cytonet cache folder, else (caching off, or not writable) a temporary folder."""
    from cytonet.cache_folder import cache_dir

    tmp = Path(tempfile.gettempdir()) / f"cytonet-{os.getuid()}" / "kernels"
    base = cache_dir()
    return [base / "kernels", tmp] if base is not None else [tmp]


def is_cached(name: str, functions: tuple[str, ...]) -> bool:
    """Whether module ``name`` is loaded, or numba's disk cache holds machine code for each of its ``functions``."""
    return name in _LOADED or any(all(any((f / "__pycache__").glob(f"{name}.{fn}-*.nbi")) for fn in functions) for f in folders())


def load(name: str, src: str, what: str) -> ModuleType:
    """Module ``name`` with source ``src``: written (atomically) unless the file holds it already, then imported."""
    from cytonet.io import atomic_write_text

    with LOCK:
        if name in _LOADED:
            return _LOADED[name]
        for folder in folders():
            path = folder / f"{name}.py"
            try:
                if not path.is_file() or path.read_text() != src:
                    folder.mkdir(parents=True, exist_ok=True)
                    atomic_write_text(path, src)
                break
            except OSError:
                continue
        else:
            raise OSError(f"cannot write the generated {what} to {' or '.join(map(str, folders()))}")
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod  # numba's cache finds the module by name
        spec.loader.exec_module(mod)  # safe: the source was written above by cytonet's generators only
        _LOADED[name] = mod
        return mod
