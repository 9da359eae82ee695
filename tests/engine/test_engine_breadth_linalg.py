"""Linear algebra: det slogdet inv solve cholesky eigh svd (and eigvalsh, svdvals)."""
import numpy as np
import pytest
from breadth_testing import arrays, compare_torch, gradcheck_tests
from hypothesis import strategies as st

import reference_engine as re

batches = st.sampled_from([(), (2,)])


@st.composite
def well_conditioned(draw, fn, rhs=False):
    """A + 3I with |A| <= 1, n <= 3: invertible, and its symmetric part positive definite."""
    n, batch = draw(st.integers(1, 3)), draw(batches)
    a = draw(arrays(batch + (n, n), -1, 1)) + 3 * np.eye(n)
    if not rhs:
        return fn, [a]
    b = draw(arrays(draw(st.sampled_from([(n,), batch + (n, 2)])) if batch == () else batch + (n, 2)))
    return fn, [a, b]


@st.composite
def separated(draw, fn, square=True):
    """diag(0, 2, 4) (or rectangular diag(1, 2.5, 4)) plus |R| <= 0.25: eigen/singular values at
    least 0.5 apart and nonzero, each vector's largest entry clear (its sign is fixed by it)."""
    if square:
        n = draw(st.integers(1, 3))
        return fn, [np.diag([0.0, 2.0, 4.0][:n]) + draw(arrays((n, n), -0.25, 0.25))]
    m, n = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    d = np.zeros((m, n))
    d[np.arange(min(m, n)), np.arange(min(m, n))] = [1.0, 2.5, 4.0][:min(m, n)]
    return fn, [d + draw(arrays((m, n), -0.2, 0.2))]


CASES = {
    "det": well_conditioned(re.det), "slogdet": well_conditioned(lambda a: re.slogdet(a)[1]),
    "inv": well_conditioned(re.inv), "solve": well_conditioned(re.solve, rhs=True),
    "cholesky": well_conditioned(re.cholesky),
    "eigh_values": separated(lambda a: re.eigh(a)[0]), "eigh_vectors": separated(lambda a: re.eigh(a)[1]),
    "eigvalsh": separated(re.eigvalsh),
    "svd_values": separated(lambda a: re.svd(a)[1], square=False), "svdvals": separated(re.svdvals, square=False),
    "svd_u": separated(lambda a: re.svd(a)[0], square=False), "svd_vh": separated(lambda a: re.svd(a)[2], square=False),
}


# every op: central differences in float64, first and second order, drawn inputs
test_first_order, test_second_order = gradcheck_tests(CASES)


def test_forward_values():
    rng = np.random.default_rng(4)
    a = rng.standard_normal((2, 3, 3))
    spd = a @ np.swapaxes(a, -1, -2) + np.eye(3)
    t = re.tensor(a)
    np.testing.assert_allclose(re.det(t).data, np.linalg.det(a))
    sign, logabs = re.slogdet(t)
    np.testing.assert_allclose(sign.data * np.exp(logabs.data), np.linalg.det(a))
    np.testing.assert_allclose(re.inv(t).data, np.linalg.inv(a))
    np.testing.assert_allclose(re.solve(t[0], re.tensor(a[1, 0])).data, np.linalg.solve(a[0], a[1, 0]))
    np.testing.assert_allclose(re.cholesky(re.tensor(spd)).data, np.linalg.cholesky(spd))
    w, v = re.eigh(re.tensor(spd))
    np.testing.assert_allclose(w.data, np.linalg.eigvalsh(spd))
    np.testing.assert_allclose((v.data * w.data[..., None, :]) @ np.swapaxes(v.data, -1, -2), spd, atol=1e-12)
    assert (np.take_along_axis(v.data, np.abs(v.data).argmax(-2)[..., None, :], -2) > 0).all()  # sign rule
    u, s, vh = re.svd(re.tensor(a[0, :, :2]))
    np.testing.assert_allclose(s.data, np.linalg.svd(a[0, :, :2], compute_uv=False))
    np.testing.assert_allclose((u.data * s.data) @ vh.data, a[0, :, :2], atol=1e-12)
    with pytest.raises(NotImplementedError):
        re.svd(t, full_matrices=True)


def test_symmetric_part_convention():
    a = np.array([[2.0, 1.0], [0.0, 3.0]])  # not symmetric: the engine reads (a + a^T)/2
    np.testing.assert_allclose(re.cholesky(re.tensor(a)).data, np.linalg.cholesky((a + a.T) / 2))
    x = re.tensor(a, requires_grad=True)
    (g,) = re.autograd.grad(re.sum(re.eigvalsh(x) * re.tensor([1.0, 2.0], dtype="float64")), x)
    np.testing.assert_allclose(g.data, g.data.T)  # a symmetric gradient


def test_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    a = rng.standard_normal((3, 3)) + 3 * np.eye(3)
    spd = a @ a.T
    compare_torch(re.det, torch.linalg.det, [a])
    compare_torch(lambda t: re.slogdet(t)[1], lambda t: torch.linalg.slogdet(t)[1], [a])
    compare_torch(re.inv, torch.linalg.inv, [a])
    compare_torch(re.solve, torch.linalg.solve, [a, rng.standard_normal((3, 2))])
    sym = lambda t: (t + t.mT) / 2  # noqa: E731  (torch reads one triangle; give it a symmetric input)
    compare_torch(re.cholesky, lambda t: torch.linalg.cholesky(sym(t)), [spd])
    compare_torch(re.eigvalsh, lambda t: torch.linalg.eigvalsh(sym(t)), [spd])
    compare_torch(re.svdvals, torch.linalg.svdvals, [rng.standard_normal((3, 2))])
    # vectors agree up to sign: compare a sign-invariant function of them
    compare_torch(lambda t: re.eigh(t)[1] ** 2, lambda t: torch.linalg.eigh(sym(t))[1] ** 2, [spd], rtol=1e-7)


def test_float16_inputs_are_rejected_like_numpy():
    with pytest.raises(TypeError):  # NumPy's LAPACK has no half precision
        re.inv(re.tensor(np.eye(2, dtype=np.float16)))
