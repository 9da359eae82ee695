"""Linear algebra: det, slogdet, inv, solve, cholesky, eigh/eigvalsh, svd/svdvals, norm.

Matrices are the last two axes; leading axes are a batch. Real inputs only. The rules
are the textbook ones (Giles 2008 "An extended collection of matrix derivative results";
Murray 2016 for cholesky; Townsend 2016 for svd), written in engine ops, so second order
comes for free.

Conventions:
* det, slogdet, inv, solve: the matrix must be invertible for the gradient (the formulas use
  its inverse; PyTorch goes through an SVD to give finite gradients at singular matrices).
* cholesky, eigh, eigvalsh read the *symmetric part* (A + A^T)/2 of their input (as
  jnp.linalg.eigh(symmetrize_input=True)). Frameworks read one triangle; values agree on
  symmetric inputs, and gradients agree along symmetric directions. The gradients here are
  therefore symmetric matrices.
* Eigen- and singular vectors are defined up to sign; the engine fixes it: the entry of
  largest magnitude of each eigenvector (each left singular vector) is positive, and the
  right singular vector follows. Compare framework vectors up to sign.
* eigh/svd gradients assume distinct eigen/singular values (nonzero singular values for
  the vectors); eigenvalues-only and singular-values-only gradients are always defined.
* svd is the reduced one (full_matrices=False).
"""
import numpy as np

from .array_ops import expand_dims
from .ops import _kept, _mT, _spread, _winners, abs, amax, amin, composite, defop, reshape, sign, sum, transpose, where


def _T(a):
    return _mT(a)


def _sym(a):
    return (a + np.swapaxes(a, -1, -2)) / 2


def _diag(v):
    """Diagonal matrices from vectors in the last axis, with engine ops."""
    n = v.shape[-1]
    return expand_dims(v, -1) * np.eye(n, dtype=v.dtype)


def _diagonal(m):
    n = m.shape[-1]
    return sum(m * np.eye(n, dtype=m.dtype), axis=-1)


def _scalar_matrix(v):
    """A batch of scalars reshaped to broadcast against a batch of matrices."""
    return reshape(v, v.shape + (1, 1))


def _off_diagonal_inverse(d):
    """F with F_ij = 1/d_ij off the diagonal and 0 on it (d's diagonal is 0)."""
    eye = np.eye(d.shape[-1], dtype=bool)
    return where(eye, 0, 1 / where(eye, 1, d))


def _gaps(w):
    """d_ij = w_j - w_i."""
    return expand_dims(w, -2) - expand_dims(w, -1)


# --- determinants and inverses --------------------------------------------------------------
inv = defop("inv", np.linalg.inv,
            vjp=lambda g, z, a: -(_T(z) @ g @ _T(z)),
            jvp=lambda t, z, a: -(z @ t @ z))
det = defop("det", np.linalg.det,
            vjp=lambda g, z, a: _scalar_matrix(g * z) * _T(inv(a)),
            jvp=lambda t, z, a: z * sum(_T(inv(a)) * t, axis=(-2, -1)))
logabsdet = defop("logabsdet", lambda a: np.linalg.slogdet(a)[1],
                  vjp=lambda g, z, a: _scalar_matrix(g) * _T(inv(a)),
                  jvp=lambda t, z, a: sum(_T(inv(a)) * t, axis=(-2, -1)))
det_sign = defop("det_sign", lambda a: np.linalg.slogdet(a)[0])  # piecewise constant: not differentiable


@composite(outputs=2)
def slogdet(a):
    """(sign, log|det a|), as np.linalg.slogdet, torch.linalg.slogdet, tf.linalg.slogdet, jnp.linalg.slogdet.
    Only logabsdet carries gradient: inv(a)^T."""
    return det_sign(a), logabsdet(a)


def _col(v):
    return expand_dims(v, -1)


# solve(a, b): x = a^-1 b. b is (..., n, k), or (n,): one vector (NumPy 2's rule; torch.linalg.solve
# also reads a (..., n) b as a batch of vectors when its shape says so). The vector rules use b as a column.
def _solve_vjp_a(g, z, a, b):
    if b.ndim == 1:
        g, z = _col(g), _col(z)
    return -(solve(_T(a), g) @ _T(z))


def _solve_vjp_b(g, z, a, b):
    return reshape(solve(_T(a), _col(g)), g.shape) if b.ndim == 1 else solve(_T(a), g)


def _solve_jvp_a(t, z, a, b):
    return reshape(solve(a, -(t @ _col(z))), z.shape) if b.ndim == 1 else solve(a, -(t @ z))


def _solve_jvp_b(t, z, a, b):
    return reshape(solve(a, _col(t)), z.shape) if b.ndim == 1 else solve(a, t)


solve = defop("solve", np.linalg.solve, vjp=(_solve_vjp_a, _solve_vjp_b), jvp=(_solve_jvp_a, _solve_jvp_b))


# --- cholesky ----------------------------------------------------------------------------------
def _phi(m):
    """The lower triangle of m with its diagonal halved."""
    n = m.shape[-1]
    return m * (np.tril(np.ones((n, n))) - 0.5 * np.eye(n)).astype(m.dtype)


def _cholesky_vjp(g, z, a):
    """a_bar = L^-T phi(L^T g) L^-1 (Murray 2016, eq. 10), then its symmetric part."""
    p = _phi(_T(z) @ g)
    s = _T(solve(_T(z), _T(solve(_T(z), p))))  # L^-T p L^-1
    return (s + _T(s)) / 2


def _cholesky_jvp(t, z, a):
    """dL = L phi(L^-1 dA L^-T), dA the symmetric part of the tangent."""
    da = (t + _T(t)) / 2
    return z @ _phi(solve(z, _T(solve(z, da))))


# Lower-triangular L with (A + A^T)/2 = L L^T (torch.linalg.cholesky, tf.linalg.cholesky, jnp.linalg.cholesky).
cholesky = defop("cholesky", lambda a: np.linalg.cholesky(_sym(a)), vjp=_cholesky_vjp, jvp=_cholesky_jvp)


# --- symmetric eigendecomposition -----------------------------------------------------------
def _signed(v):
    """Columns of v with their largest-magnitude entry made positive."""
    top = np.take_along_axis(v, np.argmax(np.abs(v), axis=-2)[..., None, :], axis=-2)
    return v * np.where(top < 0, -1, 1).astype(v.dtype)


def _eigh(a):
    w, v = np.linalg.eigh(_sym(a))
    return w, _signed(v)


def _eigvalsh_vjp(g, z, a):
    v = eigh_vectors(a)
    return (v * expand_dims(g, -2)) @ _T(v)  # V diag(g) V^T


def _eigh_vectors_vjp(g, z, a):
    """a_bar = V (F o V^T g) V^T, F_ij = 1/(w_j - w_i) off the diagonal; then its symmetric part."""
    f = _off_diagonal_inverse(_gaps(eigvalsh(a)))
    s = z @ (f * (_T(z) @ g)) @ _T(z)
    return (s + _T(s)) / 2


def _eigh_vectors_jvp(t, z, a):
    f = _off_diagonal_inverse(_gaps(eigvalsh(a)))
    return z @ (f * (_T(z) @ ((t + _T(t)) / 2) @ z))


# eigvalsh: ascending eigenvalues of (A + A^T)/2.
eigvalsh = defop("eigvalsh", lambda a: _eigh(a)[0], vjp=_eigvalsh_vjp,
                 jvp=lambda t, z, a: _diagonal(_T(eigh_vectors(a)) @ ((t + _T(t)) / 2) @ eigh_vectors(a)))
eigh_vectors = defop("eigh_vectors", lambda a: _eigh(a)[1], vjp=_eigh_vectors_vjp, jvp=_eigh_vectors_jvp)


@composite(outputs=2)
def eigh(a):
    """(w, V): ascending eigenvalues and the eigenvectors (columns) of (A + A^T)/2, each column's
    largest entry positive. See the module docstring for the conventions."""
    return eigvalsh(a), eigh_vectors(a)


# --- singular value decomposition -------------------------------------------------------------
def _svd(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    top = np.take_along_axis(u, np.argmax(np.abs(u), axis=-2)[..., None, :], axis=-2)
    flip = np.where(top < 0, -1, 1).astype(u.dtype)  # one sign per singular triplet
    return u * flip, s, vh * np.swapaxes(flip, -1, -2)


def _svd_parts(a):
    return svd_u(a), svdvals(a), _T(svd_vh(a))  # U, s, V


def _svd_f(s):
    """F_ij = 1/(s_j^2 - s_i^2) off the diagonal."""
    return _off_diagonal_inverse(_gaps(s * s))


def _svd_u_vjp(g, z, a):
    """Townsend 2016: U [(F o (U^T gU - gU^T U)) S] V^T + (I - U U^T) gU S^-1 V^T."""
    u, s, v = _svd_parts(a)
    inner = (_svd_f(s) * (_T(u) @ g - _T(g) @ u)) * expand_dims(s, -2)
    outside = (g - u @ (_T(u) @ g)) / expand_dims(s, -2)
    return u @ inner @ _T(v) + outside @ _T(v)


def _svd_vh_vjp(g, z, a):
    """With gV = gVh^T: U [S (F o (V^T gV - gV^T V))] V^T + U S^-1 gV^T (I - V V^T)."""
    u, s, v = _svd_parts(a)
    gv = _T(g)
    inner = expand_dims(s, -1) * (_svd_f(s) * (_T(v) @ gv - _T(gv) @ v))
    outside = (_T(gv) - (_T(gv) @ v) @ _T(v)) / expand_dims(s, -1)
    return u @ inner @ _T(v) + u @ outside


def _svd_u_jvp(t, z, a):
    """dU = U (F o (dP S + S dP^T)) + (I - U U^T) dA V S^-1, dP = U^T dA V (as JAX's svd jvp)."""
    u, s, v = _svd_parts(a)
    dp = _T(u) @ t @ v
    dps = dp * expand_dims(s, -2)
    rest = t @ v - u @ (_T(u) @ t @ v)
    return u @ (_svd_f(s) * (dps + _T(dps))) + rest / expand_dims(s, -2)


def _svd_vh_jvp(t, z, a):
    """dV = V (F o (S dP + dP^T S)) + (I - V V^T) dA^T U S^-1; the output is dV^T."""
    u, s, v = _svd_parts(a)
    dp = _T(u) @ t @ v
    sdp = expand_dims(s, -1) * dp
    rest = _T(t) @ u - v @ (_T(v) @ _T(t) @ u)
    return _T(v @ (_svd_f(s) * (sdp + _T(sdp))) + rest / expand_dims(s, -2))


svdvals = defop("svdvals", lambda a: _svd(a)[1],  # descending singular values
                vjp=lambda g, z, a: (svd_u(a) * expand_dims(g, -2)) @ svd_vh(a),  # U diag(g) Vh
                jvp=lambda t, z, a: _diagonal(_T(svd_u(a)) @ t @ _T(svd_vh(a))))
svd_u = defop("svd_u", lambda a: _svd(a)[0], vjp=_svd_u_vjp, jvp=_svd_u_jvp)
svd_vh = defop("svd_vh", lambda a: _svd(a)[2], vjp=_svd_vh_vjp, jvp=_svd_vh_jvp)


@composite(outputs=3)
def svd(a, full_matrices=False):
    """(U, S, Vh) with a = U diag(S) Vh, the reduced SVD (as np.linalg.svd(full_matrices=False),
    torch.linalg.svd(full_matrices=False); tf.linalg.svd returns (s, u, v) with v not transposed).
    Signs fixed as the module docstring says."""
    if full_matrices:
        raise NotImplementedError("svd: only the reduced SVD (full_matrices=False) is implemented")
    return svd_u(a), svdvals(a), svd_vh(a)


# --- norms ------------------------------------------------------------------------------------
def _vector_norm(x, ord=2, axis=None, keepdims=False):
    """The vector p-norm over ``axis`` (None: all entries): sum(|x|^p)^(1/p); inf: max|x|;
    -inf: min|x|; 0: the number of nonzeros (torch.linalg.vector_norm)."""
    a, axes = np.abs(x), None if axis is None else tuple(np.atleast_1d(axis).tolist())
    if ord == np.inf:
        return np.max(a, axes, keepdims=keepdims)
    if ord == -np.inf:
        return np.min(a, axes, keepdims=keepdims)
    if ord == 0:
        return np.sum(a != 0, axes, keepdims=keepdims).astype(x.dtype)
    return np.sum(a ** ord, axes, keepdims=keepdims) ** (1 / ord)


def _vector_norm_grad(x, z, ord, axis):
    """d norm / dx. At the zero vector it is 0 (PyTorch's choice; TF and JAX give nan): the
    division is by norm where nonzero and by 1 elsewhere, where the numerator is 0 already."""
    zk = reshape(z, _kept(x, axis))
    if ord in (np.inf, -np.inf):                      # ties share evenly, as amax
        return _winners(abs(x), z, axis, x) * sign(x)
    if ord == 0:
        return x * 0
    if ord == 2:
        return x / where(zk == 0, 1, zk)
    return sign(x) * abs(x) ** (ord - 1) / where(zk == 0, 1, zk) ** (ord - 1)


vector_norm = defop("vector_norm", _vector_norm,
                    vjp=lambda g, z, x, ord, axis, keepdims: _spread(g, x, axis) * _vector_norm_grad(x, z, ord, axis),
                    jvp=lambda t, z, x, ord, axis, keepdims: sum(t * _vector_norm_grad(x, z, ord, axis),
                                                                 axis, keepdims))


def _matrix_norm(x, ord, axes):
    """Matrix norms over the two ``axes`` (moved last)."""
    rest = tuple(a for a in range(x.ndim) if a not in axes)
    m = transpose(x, rest + axes)
    if ord in ("fro", None):
        return vector_norm(m, 2, (-2, -1))
    if ord == "nuc":
        return sum(svdvals(m), axis=-1)
    if ord in (2, -2):
        return (amax if ord == 2 else amin)(svdvals(m), axis=-1)
    if ord in (1, -1):   # max (min) over columns of the column sums
        return (amax if ord == 1 else amin)(sum(abs(m), axis=-2), axis=-1)
    if ord in (np.inf, -np.inf):  # over rows of the row sums
        return (amax if ord == np.inf else amin)(sum(abs(m), axis=-1), axis=-1)
    raise ValueError(f"norm: invalid ord {ord!r} for a matrix norm")


@composite()
def norm(x, ord=None, axis=None, keepdims=False):
    """np.linalg.norm / torch.linalg.norm. ord=None: the 2-norm of a vector, the Frobenius norm
    of a matrix -- and with axis=None, the 2-norm of all entries whatever the rank.
    An int axis (or ord with a 1-d x): vector_norm(x, ord). Two axes (or ord with a 2-d x):
    the matrix norm 'fro', 'nuc', 2 / -2 (largest / smallest singular value), 1 / -1
    (max / min column sum of |x|), inf / -inf (row sums). The gradient at 0 is 0.
    tf.norm defaults to 'euclidean' over all entries, also for matrices (the Frobenius norm)."""
    if axis is None and (ord is None or x.ndim == 1):
        return _kept_if(vector_norm(x, 2 if ord is None else ord), x, None, keepdims)
    if axis is None:
        axis = tuple(range(x.ndim))
    axes = tuple(a % x.ndim for a in np.atleast_1d(axis).tolist())
    if len(axes) == 1:
        return vector_norm(x, 2 if ord is None else ord, axes[0], keepdims)
    return _kept_if(_matrix_norm(x, ord, axes), x, axes, keepdims)


def _kept_if(y, x, axes, keepdims):
    return reshape(y, _kept(x, axes)) if keepdims else y

