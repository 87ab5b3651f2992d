"""The Metzler-majorant certificate of stability: sound (never certifies a matrix with an eigenvalue at or right of
the imaginary axis) and useful (certifies the strongly coupled rest-state Jacobians it is used on)."""

from __future__ import annotations

import numpy as np
import pytest

from cytonet.analysis.hurwitz import certified_hurwitz


def _abscissa(A: np.ndarray) -> np.ndarray:
    return np.linalg.eigvals(A).real.max(axis=-1)


@pytest.mark.parametrize("n", [2, 5, 17, 45])
def test_a_certified_matrix_has_every_eigenvalue_left_of_the_axis(n: int) -> None:
    """Random couplings of mixed signs over decades, shifted so that the majorant's abscissa is -delta, |delta| from
    the matrix's largest entry down to 1e-9 of it (far above the rounding of the shift and of the eigenvalues): a
    certificate must be refused for every delta < 0 (the majorant is not Hurwitz) and never given to a matrix with an
    eigenvalue right of the axis."""
    rng = np.random.default_rng(n)
    m = 2000
    A = rng.normal(size=(m, n, n)) * rng.lognormal(0.0, 2.0, size=(m, n, n))
    d = np.arange(n)
    A[:, d, d] = -np.abs(A[:, d, d])
    M = np.abs(A)
    M[:, d, d] = A[:, d, d]
    scale = _abscissa(M)[:, None]  # the majorant's Perron root, real
    delta = np.abs(M).max(axis=(1, 2)) * rng.choice([-1.0, 1.0], m) * 10.0 ** rng.uniform(-9, 0, m)
    A[:, d, d] -= scale + delta[:, None]
    cert = certified_hurwitz(A)
    alpha = _abscissa(A)
    assert not cert[delta < 0].any()
    assert np.all(alpha[cert] < 0)
    assert cert.sum() > 0.3 * m  # it certifies most matrices whose majorant is Hurwitz ...
    assert np.sum(~cert & (alpha < 0)) > 0  # ... and not every Hurwitz matrix (a sufficient test only)


def test_on_the_boundary_or_past_it_nothing_is_certified() -> None:
    eps = 1e-12
    metzler = np.array([[[-1.0, 1.0], [1.0, -1.0]],  # singular: alpha = 0 exactly
                        [[-1.0, 1.0], [1.0, -1.0 + eps]],  # alpha just above 0
                        [[-1.0, 1.0], [1.0, -1.0 - eps]]])  # alpha just below 0: Hurwitz
    assert np.allclose(_abscissa(metzler), [0.0, eps / 2, -eps / 2], atol=1e-15)
    assert certified_hurwitz(metzler).tolist() == [False, False, True]
    # the majorant bounds any sign pattern: flipping the couplings' signs changes neither verdict
    flipped = metzler * np.array([[1.0, -1.0], [-1.0, 1.0]])
    assert certified_hurwitz(flipped).tolist() == [False, False, True]


def test_a_rotation_dominated_hurwitz_matrix_is_left_to_the_eigenvalues() -> None:
    A = np.array([[[-1.0, 10.0], [-10.0, -1.0]]])  # eigenvalues -1 +- 10i; its majorant's are -1 +- 10
    assert _abscissa(A)[0] == pytest.approx(-1.0)
    assert not certified_hurwitz(A)[0]


def test_non_finite_is_never_certified_and_bad_shapes_are_refused() -> None:
    A = np.tile(-np.eye(3), (3, 1, 1))
    A[1, 0, 2] = np.nan
    A[2, 1, 1] = -np.inf
    assert certified_hurwitz(A).tolist() == [True, False, False]
    with pytest.raises(ValueError, match="square"):
        certified_hurwitz(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="indices"):
        certified_hurwitz(A, np.array([0, 3]))


def test_a_block_is_the_principal_submatrix_on_its_indices() -> None:
    rng = np.random.default_rng(1)
    A = rng.normal(size=(300, 9, 9)) - 4 * np.eye(9)
    b = np.array([7, 1, 4, 2])
    sub = A[:, b[:, None], b]
    assert 0 < certified_hurwitz(sub).sum() < 300
    np.testing.assert_array_equal(certified_hurwitz(A, b), certified_hurwitz(sub))
