"""Per-model lock-step kernels: the right-hand side and Jacobian written out for one model's factor structure.

:func:`cytonet.engine.lockstep.rhs_block` and :func:`~cytonet.engine.lockstep.jac_block` interpret the
structure arrays ``S`` (reaction -> factors -> products): every factor is one pass over a row of
lanes, so a right-hand side streams its rows through the cache about 630 times. The kernels made
here do the same operations in the same order (results bit-identical) with the structure resolved
when the code is written: one loop over the lanes per group of reactions, each lane's states,
rates and accumulated derivatives held in registers, every row index a constant, and the lane
count ``B`` a constant too, so that the rows of an array differ by constant offsets and LLVM
vectorises the loop with one alias check per array. A loop holds at most :data:`MAX_ROWS` array
rows (beyond about a hundred, LLVM gives up on the alias checks and leaves the loop scalar).

The source is built from the compiled model's integer indices and float coefficients only (never
from user text), written once per structure into the cache folder, imported, and compiled by numba
with its on-disk cache, so a later process loads machine code. The sparse LU comes from a module of
its own (:mod:`cytonet.engine.lane_lu`), so the modules written before it stay valid.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from cytonet.engine import generated
from cytonet.model.compile import CAP, HILL_ACT, HILL_INH, POWER, SAT

#: bump when the generated code changes, so stale cached modules are not reused
CODEGEN_VERSION = 2
#: most distinct array rows one generated loop touches, and in a loop that reads and writes rows of one array (the
#: solves; LLVM's dependence analysis gives up sooner there: 24 rows ran 1.6x the interpreted solve, 40 rows 1.0x)
MAX_ROWS, MAX_SAME_ARRAY_ROWS = 72, 24

class LaneKernels(NamedTuple):
    """Generated kernels of one model structure, Hill-code set and lane count."""

    rhs: Callable[..., None]
    jac: Callable[..., None]
    solve: Callable[..., None]
    lu: Callable[..., None]  # from :mod:`cytonet.engine.lane_lu`, a module of its own
    lanes: int


def _is_mass_action(S: tuple, r: int) -> bool:
    """The test of :func:`cytonet.engine.lockstep._mass_action` (the same fused path must be taken)."""
    f_ptr, f_kind, _, f_nu, s_ptr = S[:5]
    fs = range(f_ptr[r], f_ptr[r + 1])
    ns = s_ptr[r + 1] - s_ptr[r]
    return len(fs) <= 2 and 0 < ns <= 2 and all(f_kind[j] == POWER and f_nu[j] == 1.0 for j in fs)


class _Locals:
    """Loops over the lanes whose rows of ``[rows, B]`` arrays live in locals: loaded on first read (state rows ``X``
    first, in row order), stored at the end of the loop when written; constants are read in place. A new loop starts
    when one would hold more than ``max_rows`` rows. The locals of rows are assigned once: a load, and every ``put``
    or ``add``, binds a fresh name (``a12_0``, ``a12_1``, ...; numbered across loops), and the store at the loop's end
    takes the last one, because numba's front end, which rebuilds SSA form, compiles such code faster (the scalar
    temporaries of the right-hand side and Jacobian, ``v``, ``den``, ..., are reused: renaming them too bought nothing).
    Every name and index written comes from the model's integer arrays."""

    def __init__(self, B: int, max_rows: int, prefix: dict[str, str]) -> None:
        self.B, self.max_rows, self.prefix = B, max_rows, prefix  # prefix: array -> name of its locals
        self.loops: list[tuple[list[str], dict[tuple[str, int], tuple[str, str, bool]], set[tuple[str, int]]]] = []
        self.version: dict[tuple[str, int], int] = {}  # (array, row) -> names bound so far, in all loops
        self.new()

    def new(self) -> None:
        self.body: list[str] = []
        self.rows: dict[tuple[str, int], tuple[str, str, bool]] = {}  # (array, row) -> (loaded name, last name, written)
        self.consts: set[tuple[str, int]] = set()
        self.loops.append((self.body, self.rows, self.consts))

    def room(self, k: int) -> None:
        """Start a new loop unless ``k`` more rows fit in this one."""
        if self.body and len(self.rows) + len(self.consts) + k > self.max_rows:
            self.new()

    def c(self, arr: str, row: int) -> str:
        """A constant row, read in place."""
        self.consts.add((arr, int(row)))
        return f"{arr}[{int(row) * self.B} + q]"

    def _fresh(self, arr: str, row: int) -> str:
        key = (arr, row)
        v = self.version.get(key, 0)
        self.version[key] = v + 1
        return f"{self.prefix.get(arr, arr)}{row}_{v}"

    def get(self, arr: str, row: int) -> str:
        key = (arr, int(row))
        if key not in self.rows:
            name = self._fresh(*key)
            self.rows[key] = (name, name, False)
        return self.rows[key][1]

    def put(self, arr: str, row: int, expr: str) -> None:
        key = (arr, int(row))
        name = self._fresh(*key)
        self.body.append(f"{name} = {expr}")
        self.rows[key] = (self.rows[key][0] if key in self.rows else "", name, True)

    def add(self, arr: str, row: int, term: str) -> None:
        self.put(arr, row, f"{self.get(arr, row)} + {term}")

    def source(self) -> list[str]:
        lines = []
        for body, rows, _ in self.loops:
            held = sorted((k for k in rows if k[0] == "X"), key=lambda k: k[1]) + [k for k in rows if k[0] != "X"]
            lines.append(f"    for q in range({self.B}):")
            lines += [f"        {rows[k][0]} = {k[0]}[{k[1] * self.B} + q]" for k in held if rows[k][0]]
            lines += [f"        {x}" for x in body]
            lines += [f"        {k[0]}[{k[1] * self.B} + q] = {rows[k][1]}" for k in held if rows[k][2]]
        return lines


#: local names of state rows and accumulated rows in the right-hand side and Jacobian
_NAMES = {"X": "x", "out": "a"}


def _reaction_rows(S: tuple, r: int) -> int:
    f_ptr, f_kind, s_ptr = S[0], S[1], S[4]
    return 1 + 2 * (f_ptr[r + 1] - f_ptr[r]) + (s_ptr[r + 1] - s_ptr[r]) + int(any(k != POWER for k in f_kind[f_ptr[r]:f_ptr[r + 1]]))


def _hill(w: _Locals, j: int, s: int, code: int) -> tuple[str, str]:
    """Statements for xq = max(x, 0) and xn = xq ** n of a Hill factor; returns their local names."""
    xs = w.get('X', s)
    w.body.append(f"xq{j} = {xs} if {xs} > 0.0 else 0.0")
    w.body.append(f"xn{j} = _pow_code(xq{j}, {int(code)}, {w.c('fn', j)})")
    return f"xq{j}", f"xn{j}"


def rhs_source(S: tuple, ncode: np.ndarray, B: int) -> list[str]:
    """Body of the generated right-hand side: the operations of ``rhs_block`` in its order."""
    f_ptr, f_kind, f_species, f_nu, s_ptr, s_species, s_coef = S
    w = _Locals(B, MAX_ROWS, _NAMES)
    for r in range(len(f_ptr) - 1):
        w.room(_reaction_rows(S, r))
        fs = range(f_ptr[r], f_ptr[r + 1])
        ps = range(s_ptr[r], s_ptr[r + 1])
        k = w.c("kr", r)
        if _is_mass_action(S, r):
            fac = "".join(f" * {w.get('X', f_species[j])}" for j in fs)
            if not fs:
                for j in ps:
                    w.add("out", s_species[j], f"{float(s_coef[j])!r} * {k}")
            elif len(ps) == 1:
                w.add("out", s_species[ps[0]], f"{float(s_coef[ps[0]])!r} * ({k}{fac})")
            else:
                w.body.append(f"v = {k}{fac}")
                for j in ps:
                    w.add("out", s_species[j], f"{float(s_coef[j])!r} * v")
            continue
        rational = any(f_kind[j] != POWER for j in fs)
        w.body.append(f"v = {k}")
        if rational:
            w.body.append("den = 1.0")
        for j in fs:
            kind, nu = int(f_kind[j]), float(f_nu[j])
            if kind == POWER:
                xs = w.get('X', f_species[j])
                w.body.append(f"v *= {xs}" if nu == 1.0 else f"v *= {xs} * {xs}" if nu == 2.0 else f"v *= {xs} ** {nu!r}")
            elif kind == SAT:
                xs = w.get('X', f_species[j])
                w.body += [f"v *= {xs}", f"den *= {w.c('fK', j)} + {xs}"]
            elif kind == CAP:
                xs = w.get('X', f_species[j])
                w.body += [f"v *= {w.c('fK', j)} - {xs}", f"den *= {w.c('fK', j)}"]
            else:
                _, xn = _hill(w, j, f_species[j], ncode[j])
                fkn = w.c("fKn", j)
                if kind == HILL_ACT:
                    w.body.append(f"v *= {xn}")
                elif kind == HILL_INH:
                    w.body.append(f"v *= {fkn}")
                else:
                    w.body.append(f"v *= {w.c('fb', j)} * {fkn} + {xn}")
                w.body.append(f"den *= {fkn} + {xn}")
        if rational:
            w.body.append("v /= den")
        for j in ps:
            w.add("out", s_species[j], f"{float(s_coef[j])!r} * v")
    return w.source()


def jac_source(S: tuple, ncode: np.ndarray, jac_dst: np.ndarray, B: int) -> list[str]:
    """Body of the generated Jacobian: the terms of ``jac_block`` in its order, added into ``out`` (zeroed first)."""
    f_ptr, f_kind, f_species, f_nu, s_ptr, s_species, s_coef = S
    w = _Locals(B, MAX_ROWS, _NAMES)
    e = 0
    for r in range(len(f_ptr) - 1):
        m, ns = f_ptr[r + 1] - f_ptr[r], s_ptr[r + 1] - s_ptr[r]
        w.room(_reaction_rows(S, r) + m * ns)
        k = w.c("kr", r)
        if _is_mass_action(S, r):
            for i in range(m):
                if m == 1:
                    w.body.append(f"g = {k} * 1.0")
                else:
                    w.body.append(f"g = {k} * 1.0 * {w.get('X', f_species[f_ptr[r] + 1 - i])}")
                for t in range(ns):
                    w.add("out", jac_dst[e + t], f"{float(s_coef[s_ptr[r] + t])!r} * g")
                e += ns
            continue
        for i in range(m):
            j = f_ptr[r] + i
            kind, nu, s = int(f_kind[j]), float(f_nu[j]), f_species[j]
            fv, dv = f"fv{i}", f"dv{i}"
            if kind == POWER:
                xs = w.get('X', s)
                if nu == 1.0:
                    w.body += [f"{fv} = {xs}", f"{dv} = 1.0"]
                elif nu == 2.0:
                    w.body += [f"{fv} = {xs} * {xs}", f"{dv} = 2.0 * {xs}"]
                else:
                    w.body += [f"{fv} = {xs} ** {nu!r}", f"{dv} = {nu!r} * {xs} ** ({nu!r} - 1.0)"]
            elif kind == SAT:
                xs, fk = w.get('X', s), w.c("fK", j)
                w.body += [f"inv = 1.0 / ({fk} + {xs})", f"{fv} = {xs} * inv", f"{dv} = {fk} * inv * inv"]
            elif kind == CAP:
                xs, fk = w.get('X', s), w.c("fK", j)
                w.body += [f"inv = 1.0 / {fk}", f"{fv} = 1.0 - {xs} * inv", f"{dv} = -inv"]
            else:
                xq, xn = _hill(w, j, s, ncode[j])
                fkn, fn = w.c("fKn", j), w.c("fn", j)
                w.body += [f"inv = 1.0 / ({fkn} + {xn})",
                           f"dh = {fn} * {fkn} * _powm1({xq}, {int(ncode[j])}, {fn}, {xn}) * inv * inv"]
                if kind == HILL_ACT:
                    w.body += [f"{fv} = {xn} * inv", f"{dv} = dh"]
                elif kind == HILL_INH:
                    w.body += [f"{fv} = {fkn} * inv", f"{dv} = -dh"]
                else:
                    fb = w.c("fb", j)
                    w.body += [f"{fv} = {fb} + (1.0 - {fb}) * {xn} * inv", f"{dv} = (1.0 - {fb}) * dh"]
        for i in range(m):
            w.body.append(f"g = {k} * dv{i}")
            w.body += [f"g *= fv{o}" for o in range(m) if o != i]
            for t in range(ns):
                w.add("out", jac_dst[e + t], f"{float(s_coef[s_ptr[r] + t])!r} * g")
            e += ns
    return w.source()


def solve_source(L: tuple, B: int) -> list[str]:
    """Body of the generated triangular solves W x = b in place: the operations of ``solve_block`` in its order."""
    perm, row_ptr, col, diag = L[0], L[1], L[2], L[3]
    n = len(perm)
    w = _Locals(B, MAX_SAME_ARRAY_ROWS, {})
    for i in range(n):
        p = int(perm[i])
        for e in range(row_ptr[i], diag[i]):
            w.room(3)
            c = int(perm[col[e]])
            w.put("b", p, f"{w.get('b', p)} - {w.get('a', e)} * {w.get('b', c)}")
    for i in range(n - 1, -1, -1):
        p = int(perm[i])
        for e in range(diag[i] + 1, row_ptr[i + 1]):
            w.room(3)
            c = int(perm[col[e]])
            w.put("b", p, f"{w.get('b', p)} - {w.get('a', e)} * {w.get('b', c)}")
        w.room(2)
        w.put("b", p, f"{w.get('b', p)} / {w.get('a', diag[i])}")
    return w.source()


_HEADER = '''"""Generated by cytonet.engine.lane_codegen from a compiled model's structure arrays; do not edit."""
import numba as nb

from cytonet.engine.lockstep import JAC_SIG, RHS_SIG, SOLVE_SIG, _pow_code, _powm1

_J = dict(cache=True, nogil=True, error_model="numpy")


@nb.njit(RHS_SIG, **_J)
def rhs(X2, U2, kr2, fK2, fn2, fb2, fKn2, out2):
    X, kr, fK, fn, fb, fKn, out = (X2.reshape(X2.size), kr2.reshape(kr2.size), fK2.reshape(fK2.size), fn2.reshape(fn2.size),
                                   fb2.reshape(fb2.size), fKn2.reshape(fKn2.size), out2.reshape(out2.size))
    U = U2.reshape(U2.size)
    for q in range(out.shape[0]):
        out[q] = U[q]
'''

_JAC_HEAD = '''

@nb.njit(JAC_SIG, **_J)
def jac(X2, kr2, fK2, fn2, fb2, fKn2, out2):
    X, kr, fK, fn, fb, fKn, out = (X2.reshape(X2.size), kr2.reshape(kr2.size), fK2.reshape(fK2.size), fn2.reshape(fn2.size),
                                   fb2.reshape(fb2.size), fKn2.reshape(fKn2.size), out2.reshape(out2.size))
    for q in range(out.shape[0]):
        out[q] = 0.0
'''


_SOLVE_HEAD = '''

@nb.njit(SOLVE_SIG, **_J)
def solve(a2, b2):
    a, b = a2.reshape(a2.size), b2.reshape(b2.size)
'''


def module_source(S: tuple, ncode: np.ndarray, jac_dst: np.ndarray, L: tuple, B: int) -> str:
    """The whole generated module for one structure, Hill-code set, LU plan (its solves) and lane count."""
    return (_HEADER + "\n".join(rhs_source(S, ncode, B)) + "\n" + _JAC_HEAD + "\n".join(jac_source(S, ncode, jac_dst, B))
            + "\n" + _SOLVE_HEAD + "\n".join(solve_source(L, B)) + "\n")


_LOADED: dict[str, LaneKernels] = {}  # by module name
_NAMES_OF: dict[str, str] = {}  # digest of the inputs -> module name (building the source takes ~60 ms)


def _module_name(M: tuple, ncode: np.ndarray, B: int) -> tuple[str, str | None]:
    """(module name, its source or None when the name is known from the same inputs already)."""
    h = hashlib.sha256(f"{B}".encode())
    for a in (*M[0], M[3], *M[2], ncode):
        h.update(np.ascontiguousarray(a).tobytes() + b"\0")
    digest = h.hexdigest()
    if digest in _NAMES_OF:
        return _NAMES_OF[digest], None
    src = module_source(M[0], ncode, M[3], M[2], B)
    name = "cytonet_lane_kernels_" + hashlib.sha256(f"{CODEGEN_VERSION}\0{src}".encode()).hexdigest()[:24]
    _NAMES_OF[digest] = name
    return name, src


def is_built(M: tuple, ncode: np.ndarray, B: int) -> bool:
    """Whether :func:`lane_kernels` would load these kernels instead of compiling them (loaded, or in numba's disk cache)."""
    from cytonet.engine import lane_lu

    return generated.is_cached(_module_name(M, ncode, B)[0], ("rhs", "jac", "solve")) and lane_lu.is_built(M[2], B)


def lane_kernels(M: tuple, ncode: np.ndarray, B: int) -> LaneKernels:
    """The generated kernels of the model arrays ``M`` (:func:`cytonet.engine.rodas.model_arrays`) for ``B`` lanes,
    written and compiled on first use, then loaded from the caches."""
    from cytonet.engine import lane_lu

    with generated.LOCK:
        name, src = _module_name(M, ncode, B)
        if name in _LOADED:
            return _LOADED[name]
        mod = generated.load(name, src if src is not None else module_source(M[0], ncode, M[3], M[2], B), "lock-step kernels")
        _LOADED[name] = LaneKernels(mod.rhs, mod.jac, mod.solve, lane_lu.lu_kernel(M[2], B), B)
        return _LOADED[name]
