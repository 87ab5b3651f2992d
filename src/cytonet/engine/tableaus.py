"""Rosenbrock methods of the tape kernels (:mod:`cytonet.engine.tape_rodas`), as tableaus in the W-transformed form.

A method is the tuple (A, C, D, gamma, k) of an s-stage stiffly accurate Rosenbrock method for an
autonomous system (time is a state): stage i solves (I / (h gamma) - J) k_i = f(x + sum_j A[i, j] k_j)
+ sum_j C[i, j] k_j / h; the step ends at y1 = x + sum_j A[s-1, j] k_j + k_s and its error estimate
is k_s. Dense output: y(th) = (1 - th) x + th (y1 + (1 - th)(d_0 + th (d_1 + th d_2))) with
d_r = sum_i D[r, i] k_i. k is the denominator of the step-size exponents (the embedded order + 1).
The form is Hairer & Wanner's RODAS, as OrdinaryDiffEq.jl's ``RodasTableau`` holds it.

The network engine (:mod:`cytonet.engine.rodas`, :mod:`cytonet.engine.lockstep`) freezes RODAS5P into its compiled
kernels as constants; numba's on-disk cache keys on those modules' own source, so a change of a number here needs
that cache cleared as well.
"""

from __future__ import annotations

import numpy as np

#: one method: (A (s, s), C (s, s), D (3, s), gamma, k)
Method = tuple[np.ndarray, np.ndarray, np.ndarray, float, float]


def _method(a: list[list[float]], c: list[list[float]], d: list[list[float]], gamma: float, order: int) -> Method:
    s = len(a)
    A, C, D = np.zeros((s, s)), np.zeros((s, s)), np.zeros((3, s))
    for i in range(s):
        A[i, :i] = a[i][:i]
        C[i, :i] = c[i][:i]
    for r, row in enumerate(d):
        D[r, :len(row)] = row
    return A, C, D, float(gamma), float(order)


_ROW5 = [1.221224509226641, 6.019134481288629, 12.53708332932087, -0.6878860361058950]
#: Rodas4, order 4(3), six stages, 3rd-order dense output (Hairer & Wanner, Solving ODEs II, RODAS METH=1)
RODAS4 = _method(
    [[], [1.544], [0.9466785280815826, 0.2557011698983284], [3.314825187068521, 2.896124015972201, 0.9986419139977817],
     _ROW5, [*_ROW5, 1.0]],
    [[], [-5.6688], [-2.430093356833875, -0.2063599157091915],
     [-0.1073529058151375, -9.594562251023355, -20.47028614809616],
     [7.496443313967647, -10.24680431464352, -33.99990352819905, 11.70890893206160],
     [8.083246795921522, -7.981132988064893, -31.52159432874371, 16.31930543123136, -6.058818238834054]],
    [[10.12623508344586, -7.487995877610167, -34.80091861555747, -7.992771707568823, 1.025137723295662],
     [-0.6762803392801253, 6.087714651680015, 16.43084320892478, 24.76722511418386, -6.594389125716872]],
    0.25, 4)

_ROW6 = [-7.502846399306121, 2.561846144803919, -11.627539656261098, -0.18268767659942256, 0.030198172008377946]
#: Rodas5P, order 5(4), eight stages, with a 4th-order dense output: Steinebach, BIT Numer. Math. 63, 27 (2023),
#: doi:10.1007/s10543-023-00967-x; coefficients as in OrdinaryDiffEq.jl's ``Rodas5PTableau``
RODAS5P = _method(
    [[], [3.0], [2.849394379747939, 0.45842242204463923],
     [-6.954028509809101, 2.489845061869568, -10.358996098473584],
     [2.8029986275628964, 0.5072464736228206, -0.3988312541770524, -0.04721187230404641],
     _ROW6, [*_ROW6, 1.0], [*_ROW6, 1.0, 1.0]],
    [[], [-14.155112264123755], [-17.97296035885952, -2.859693295451294],
     [147.12150275711716, -1.41221402718213, 71.68940251302358],
     [165.43517024871676, -0.4592823456491126, 42.90938336958603, -5.961986721573306],
     [24.854864614690072, -3.0009227002832186, 47.4931110020768, 5.5814197821558125, -0.6610691825249471],
     [30.91273214028599, -3.1208243349937974, 77.79954646070892, 34.28646028294783, -19.097331116725623,
      -28.087943162872662],
     [37.80277123390563, -3.2571969029072276, 112.26918849496327, 66.9347231244047, -40.06618937091002,
      -54.66780262877968, -9.48861652309627]],
    [[25.948786856663858, -2.5579724845846235, 10.433815404888879, -2.3679251022685204, 0.524948541321073,
      1.1241088310450404, 0.4272876194431874, -0.17202221070155493],
     [-9.91568850695171, -0.9689944594115154, 3.0438037242978453, -24.495224566215796, 20.176138334709044,
      15.98066361424651, -6.789040303419874, -6.710236069923372],
     [11.419903575922262, 2.8879645146136994, 72.92137995996029, 80.12511834622643, -52.072871366152654,
      -59.78993625266729, -0.15582684282751913, 4.883087185713722]],
    0.21193756319429014, 5)

METHODS = {"rodas4": RODAS4, "rodas5p": RODAS5P}
#: the tape kernels' method (SBML and PEtab models, their forward sensitivities): Rodas5P takes about half the CPU
#: time of Rodas4 at the fits' tolerances (docs/fit.md, "Rodas5P")
TAPE_DEFAULT = "rodas5p"
TAPE_METHOD = METHODS[TAPE_DEFAULT]


def method_named(name: str) -> Method:
    """The tableau called ``name`` (a key of :data:`METHODS`); an unknown name is refused with the close matches."""
    if name not in METHODS:
        from cytonet.errors import ModelSpecError, did_you_mean

        raise ModelSpecError(f"unknown integration method {name!r}{did_you_mean(name, list(METHODS))}; "
                             f"choose one of {', '.join(METHODS)}")
    return METHODS[name]
