"""How :class:`FullyConnectedNTK` evaluates its entries: which path, which backend.

Every entry is a function of ``(|x|^2, |x'|^2, x . x')``. Three paths compute it:

1. **Identical rows** (bitwise, ``-0.0 == 0.0``) get the diagonal ``k(x, x)``, computed
   from the norm alone (:mod:`._identical`).
2. **Equal norms** (the paper's unit sphere; relu without bias: any norms) read the
   one-dimensional function of the cosine tabulated by :class:`._fc_sphere.SphereTable`:
   O(1) per entry whatever the depth. Two squared norms count as equal when they
   round to the same point, or to neighbouring points, of a grid of relative spacing
   ``2^-46`` (1.4e-14): rows normalised by ``Normalizer`` (norms 1 within a few ulp)
   all do. The table of that grid point is used, so the norm is off by at most
   ``2^-45`` relative, which moves an entry by about as much (the kernel depends
   smoothly on the norm at a fixed cosine): below the 1e-12 accuracy contract.
3. **Other entries** run the layer recursion of :mod:`._fc_recursion`.

Which path an entry takes depends only on its two rows, never on the other rows of
the call, its chunking or what was computed before (tables are deterministic), so
splitting a matrix into blocks or jobs changes an entry only through the rounding of
its inner product (BLAS rounds differently for different tile shapes). One
exception: a call whose entries need more than ``_MAX_TABLES_PER_CALL`` different
tables (data with many repeated, unnormalised norms) runs the recursion for all.

Backends (measured by ``benchmarks/bench_kernel_throughput.py``, section
"backends"). On CPU the arithmetic is numpy: BLAS inner products, and float64
``arcsin``/``arctan2`` vectorised at 1-2 ns per element where XLA calls scalar libm at
15-20 ns, so erf's recursion runs ~1.5x faster in numpy than under jax (relu's, with
fewer transcendentals, ~10% slower, but jax would compile for ~1 s per new block
shape). The table lookup is
one fused XLA loop, a few ns per entry, where the same steps as numpy array passes
take 60-200 ns. When jax's default backend is not the CPU (a GPU or TPU), everything
runs there through jax. Float64 throughout.
"""

from __future__ import annotations

import collections
import functools
import math
import threading

import numpy as np

from ._fc_recursion import equal_norm_kernel, general_kernel
from ._fc_sphere import SphereTable
from ._identical import identical_pairs, identical_rows

#: Entries per chunk of the numpy recursion (its temporaries stay in cache).
_RECURSION_CHUNK = 1 << 15
#: Squared norms are put on a grid of relative spacing 2^-_NORM_BITS.
_NORM_BITS = 46
#: More distinct tables than this in one call: that call runs the recursion.
_MAX_TABLES_PER_CALL = 16
#: Tables kept, shared by all kernels of equal parameters (clones included).
_MAX_TABLES = 64
#: at_correlation tabulates from this many points on (fewer: the recursion).
_AT_CORRELATION_TABLE_MIN = 256

_TABLES = collections.OrderedDict()
_TABLES_LOCK = threading.Lock()
#: Diagonal values by squared norm, per kernel; at most this many per kernel.
_MAX_DIAGONALS = 1 << 16
_DIAGONALS = {}


def default_backend():
    """``"jax"`` when jax's default device is an accelerator, else ``"numpy"``."""
    import jax

    return "numpy" if jax.default_backend() == "cpu" else "jax"


def sphere_table(activation, get, depth, W2, b2, p):
    """The (shared, cached) :class:`SphereTable` of these parameters."""
    key = (activation, get, depth, W2, b2, p)
    with _TABLES_LOCK:
        table = _TABLES.get(key)
        if table is not None:
            _TABLES.move_to_end(key)
            return table
    table = SphereTable(activation, get, depth, W2, b2, p)  # deterministic
    with _TABLES_LOCK:
        _TABLES[key] = table
        while len(_TABLES) > _MAX_TABLES:
            _TABLES.popitem(last=False)
    return table


def norm_grid(sq):
    """Squared norms rounded to the grid of relative spacing ``2^-46`` (0 stays 0)."""
    mantissa, exponent = np.frexp(np.asarray(sq, dtype=np.float64))
    return np.ldexp(np.round(np.ldexp(mantissa, _NORM_BITS)), exponent - _NORM_BITS)


class Evaluator:
    """Entries of one fully-connected kernel (validated parameters) on one backend."""

    def __init__(self, activation, get, depth, W2, b2, backend):
        self.activation, self.get, self.depth = activation, get, depth
        self.W2, self.b2 = W2, b2
        self.homogeneous = activation == "relu" and b2 == 0.0
        self.backend = backend
        if backend == "numpy":
            self.xp = np
        else:
            import jax.numpy as jnp

            self.xp = jnp

    # --- public entry points (numpy in, numpy out) --------------------------------
    def block(self, X, Y):
        """``k(X[i], Y[j])`` for all i, j."""
        xp = self.xp
        Xd, Yd = self._to_device(X), self._to_device(Y)
        sq_x = xp.einsum("ij,ij->i", Xd, Xd)
        sq_y = xp.einsum("ij,ij->i", Yd, Yd)
        dot = Xd @ Yd.T
        rows, cols = identical_pairs(X, Y)
        identical = None
        if rows.size:
            identical = np.zeros(dot.shape, dtype=bool)
            identical[rows, cols] = True
        K = self._from_stats(sq_x[:, None], sq_y[None, :], dot, X.shape[1], identical)
        if rows.size:
            K[rows, cols] = self.diagonal(np.asarray(sq_x)[rows], X.shape[1])
        return K

    def paired(self, X, Y):
        """``k(X[t], Y[t])`` for every t."""
        xp = self.xp
        Xd = self._to_device(X)
        sq_x = np.asarray(xp.einsum("ij,ij->i", Xd, Xd))
        same = identical_rows(X, Y)
        if same.all():
            return self.diagonal(sq_x, X.shape[1])
        Yd = self._to_device(Y)
        sq_y = xp.einsum("ij,ij->i", Yd, Yd)
        dot = xp.einsum("ij,ij->i", Xd, Yd)
        K = self._from_stats(xp.asarray(sq_x), sq_y, dot, X.shape[1], same)
        if same.any():
            K[same] = self.diagonal(sq_x[same], X.shape[1])
        return K

    def diagonal(self, sq, d):
        """``k(x, x)`` from the squared norms alone (each distinct norm once)."""
        sq = np.asarray(sq, dtype=np.float64)
        unique, inverse = np.unique(sq, return_inverse=True)
        cache = _DIAGONALS.setdefault(
            (self.activation, self.get, self.depth, self.W2, self.b2, d), {}
        )
        values = np.array([cache.get(s, np.nan) for s in unique.tolist()])
        missing = np.isnan(values)
        if missing.any():
            todo = unique[missing]
            one = np.ones_like(todo)
            values[missing] = self._recursion(
                equal_norm_kernel, self.W2 * todo / d, one, 0.0 * one, 2.0 * one, xp=np
            )
            if len(cache) + todo.size <= _MAX_DIAGONALS:
                cache.update(zip(todo.tolist(), values[missing].tolist(), strict=True))
        return self._finite(values[inverse].reshape(sq.shape))

    def at_correlation(self, rho, sq, d):
        """The kernel at cosine ``rho`` between two inputs of squared norm ``sq``."""
        rho = np.clip(np.asarray(rho, dtype=np.float64), -1.0, 1.0)
        p = self.W2 * sq / d
        if rho.size < _AT_CORRELATION_TABLE_MIN:
            out = self._recursion(
                equal_norm_kernel,
                np.full_like(rho, p),
                rho,
                1.0 - rho,
                1.0 + rho,
                xp=np,
            )
        elif self.homogeneous:
            out = p * self._table(1.0)(rho, np)
        else:
            out = self._table(self.W2 * float(norm_grid(sq)) / d)(rho, np)
        # rho = 1 is the diagonal, exactly as diag() computes it.
        out = np.where(rho == 1.0, self.diagonal(np.full_like(rho, sq), d), out)
        return self._finite(out)

    # --- paths --------------------------------------------------------------------
    def _from_stats(self, sq_x, sq_y, dot, d, identical=None):
        """Entries from squared norms (broadcastable) and inner products.

        ``identical`` (boolean, the shape of ``dot``, or None) marks the entries the
        caller replaces by the diagonal: they never ask for a table of their own.
        """
        xp = self.xp
        W2, b2 = self.W2, self.b2
        if self.homogeneous:
            norm = _norm_product(xp, sq_x, sq_y)
            ok = norm > 0
            rho = xp.where(ok, dot / xp.where(ok, norm, 1.0), 0.0)
            out = (W2 / d) * norm * self._table(1.0)(rho, xp)
            return self._finite(out)
        sq_x_host, sq_y_host = np.asarray(sq_x), np.asarray(sq_y)
        key_x, key_y = norm_grid(sq_x_host), norm_grid(sq_y_host)
        keys = np.unique(np.concatenate([key_x.ravel(), key_y.ravel()]))
        if keys.size == 1 and keys[0] > 0:  # the unit sphere: one table for all
            table = self._table(W2 * float(keys[0]) / d)
            if xp is not np or not _product_is_safe(sq_x_host, sq_y_host):
                rho = dot / _norm_product(xp, sq_x, sq_y)
                return self._finite(table(rho, xp))
            # In place: the cosines, then the kernel, in one buffer.
            buffer = np.multiply(sq_x, sq_y, out=np.empty(dot.shape))
            np.sqrt(buffer, out=buffer)
            np.divide(dot, buffer, out=buffer)
            return self._finite(table(buffer, np, out=buffer))
        key_x, key_y = np.broadcast_arrays(key_x, key_y)
        shape = np.broadcast_shapes(key_x.shape, dot.shape)
        key = np.minimum(key_x, key_y)
        fast = (key > 0) & (
            np.abs(key_x - key_y) <= 2.0 ** (1 - _NORM_BITS) * np.maximum(key_x, key_y)
        )
        fast = np.broadcast_to(fast, shape)
        if identical is not None:
            fast = fast & ~identical
        fast_keys = np.unique(np.broadcast_to(key, shape)[fast]) if fast.any() else []
        if len(fast_keys) > _MAX_TABLES_PER_CALL:
            fast = np.zeros(shape, dtype=bool)
            fast_keys = []
        q_x = W2 * sq_x / d + b2
        q_y = W2 * sq_y / d + b2
        c = W2 * dot / d + b2
        if not fast.any():
            out = self._recursion(general_kernel, q_x, q_y, c)
            return self._finite(out)
        # Mixed: recursion on the flattened other entries, tables on theirs.
        out = np.zeros(shape)
        slow = ~fast if identical is None else ~fast & ~identical
        if slow.any():
            q_xf = np.broadcast_to(np.asarray(q_x), shape)[slow]
            q_yf = np.broadcast_to(np.asarray(q_y), shape)[slow]
            out[slow] = np.asarray(
                self._recursion(general_kernel, q_xf, q_yf, np.asarray(c)[slow])
            )
        key = np.broadcast_to(key, shape)
        dot_host = np.asarray(dot)
        norm = np.broadcast_to(_norm_product(np, sq_x_host, sq_y_host), shape)
        for value in fast_keys:
            where = fast & (key == value)
            rho = dot_host[where] / norm[where]
            out[where] = np.asarray(self._table(W2 * float(value) / d)(rho, np))
        return self._finite(xp.asarray(out))

    def _table(self, p):
        return sphere_table(self.activation, self.get, self.depth, self.W2, self.b2, p)

    def _recursion(self, front, *arrays, xp=None):
        """``front(...)`` (a function of :mod:`._fc_recursion`), chunked for numpy."""
        xp = self.xp if xp is None else xp
        args = (self.activation, self.get, self.depth, self.W2, self.b2)
        if xp is not np:
            from ._base import x64

            with x64():
                return _jitted(front)(*args, *(xp.asarray(a) for a in arrays))
        arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
        if len(shape) == 0 or math.prod(shape) <= _RECURSION_CHUNK:
            with np.errstate(over="ignore", invalid="ignore"):
                return np.broadcast_to(front(np, *args, *arrays), shape).copy()
        # Chunks of rows (of the first axis), each at most _RECURSION_CHUNK entries.
        out = np.empty(shape)
        rows = max(1, _RECURSION_CHUNK // max(1, math.prod(shape[1:])))
        for start in range(0, shape[0], rows):
            part = [
                a[start : start + rows] if a.ndim and a.shape[0] == shape[0] else a
                for a in arrays
            ]
            with np.errstate(over="ignore", invalid="ignore"):
                out[start : start + rows] = front(np, *args, *part)
        return out

    # --- helpers ------------------------------------------------------------------
    def _to_device(self, X):
        if self.xp is np:
            return X
        from ._base import x64

        with x64():
            return self.xp.asarray(X, dtype=self.xp.float64)

    def _finite(self, out):
        out = np.asarray(out, dtype=np.float64)
        if not out.flags.writeable:
            out = out.copy()
        if not np.isfinite(out).all():
            raise ValueError(
                f"The kernel overflowed float64 at depth={self.depth} (the NTK grows "
                "geometrically with depth); use a smaller `depth` or `W_std`."
            )
        return out


def _product_is_safe(sq_x, sq_y):
    """Whether no ``sq_x * sq_y`` of two non-zero squared norms under- or overflows."""
    positive_x, positive_y = sq_x[sq_x > 0], sq_y[sq_y > 0]
    if positive_x.size == 0 or positive_y.size == 0:
        return True
    low = positive_x.min() * positive_y.min()
    high = positive_x.max() * positive_y.max()
    return low >= 1e-290 and high <= 1e290


def _norm_product(xp, sq_x, sq_y):
    """``|x| |y|`` as ``sqrt(|x|^2 |y|^2)`` (exactly ``s`` when both are ``s``), or as
    ``|x| * |y|`` when the product of the squares would under- or overflow."""
    if _product_is_safe(np.asarray(sq_x), np.asarray(sq_y)):
        return xp.sqrt(sq_x * sq_y)
    return xp.sqrt(sq_x) * xp.sqrt(sq_y)


@functools.cache
def _jitted(front):
    """``front`` on jax arrays, compiled once per (activation, get, b2 == 0)."""
    import jax
    import jax.numpy as jnp

    def run(activation, get, depth, W2, b2, *arrays):
        return front(jnp, activation, get, depth, W2, b2, *arrays)

    # b2 is static: whether it is zero selects the odd-symmetric form of erf.
    return jax.jit(run, static_argnums=(0, 1, 4))
