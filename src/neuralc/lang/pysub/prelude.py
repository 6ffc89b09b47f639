"""Helper functions written in the core Python subset, added to a module only when it uses them.

:mod:`.desugar` rewrites ``**``, ``>>``, ``pow(a, b, m)`` (exact for any m <= n: products mod m by doubling, so no value reaches m
squared) and, with signed values, ``//``,
``%``, ``abs``, ``min``, ``max``, ``sorted`` and negative indices into calls of these. They are
compiled like the user's functions (so both backends run the same instructions); of the
desugaring they only get ``raise`` (an overflow is the run-time error ``integer overflow``):
every comparison below is unsigned, and signed ones are written out with the
bias ``B = n // 2`` (``a + B < b + B`` orders the signed readings; ``a >= P``, ``P = n - B``,
says that ``a`` reads negative).
"""

from __future__ import annotations

import ast
from functools import lru_cache

__all__ = ["HELPERS", "prelude_functions"]

# name → (source, helpers it calls); {B}, {P} and {N1} (= n - 1) are filled in per machine size
HELPERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "_nc_pow": ("""
def _nc_pow(a, b):
    r = 1
    while b != 0:
        if b % 2 == 1:
            r = r * a
        b = b // 2
        if b != 0:
            a = a * a
    return r
""", ()),
    "_nc_mulmod": ("""
def _nc_mulmod(a, b, m):
    r = 0
    while b != 0:
        if b % 2 == 1:
            if r >= m - a:
                r = r - (m - a)
            else:
                r = r + a
        b = b // 2
        if b != 0:
            if a >= m - a:
                a = a - (m - a)
            else:
                a = a + a
    return r
""", ()),
    "_nc_powmod": ("""
def _nc_powmod(a, b, m):
    r = 1 % m
    a = a % m
    while b != 0:
        if b % 2 == 1:
            r = _nc_mulmod(r, a, m)
        b = b // 2
        if b != 0:
            a = _nc_mulmod(a, a, m)
    return r
""", ("_nc_mulmod",)),
    "_nc_spowmod": ("""
def _nc_spowmod(a, b, m):
    return _nc_powmod(_nc_smod(a, m), b, m)
""", ("_nc_smod", "_nc_powmod")),
    "_nc_shr": ("""
def _nc_shr(a, b):
    while b != 0 and a != 0:
        a = a // 2
        b = b - 1
    return a
""", ()),
    "_nc_sshr": ("""
def _nc_sshr(a, b):
    if a >= {P}:
        return {N1} - _nc_shr({N1} - a, b)
    return _nc_shr(a, b)
""", ("_nc_shr",)),
    "_nc_sfloordiv": ("""
def _nc_sfloordiv(a, b):
    na = a >= {P}
    nb = b >= {P}
    if na:
        a = 0 - a
    if nb:
        b = 0 - b
    q = a // b
    if na != nb:
        if q * b != a:
            q = q + 1
        q = 0 - q
    elif q >= {P}:
        raise OverflowError("integer overflow")
    return q
""", ()),
    "_nc_struncdiv": ("""
def _nc_struncdiv(a, b):
    na = a >= {P}
    nb = b >= {P}
    if na:
        a = 0 - a
    if nb:
        b = 0 - b
    q = a // b
    if na != nb:
        q = 0 - q
    elif q >= {P}:
        raise OverflowError("integer overflow")
    return q
""", ()),
    "_nc_smod": ("""
def _nc_smod(a, b):
    na = a >= {P}
    nb = b >= {P}
    if na:
        a = 0 - a
    if nb:
        b = 0 - b
    r = a % b
    if r != 0 and na != nb:
        r = b - r
    if nb:
        r = 0 - r
    return r
""", ()),
    "_nc_abs": ("""
def _nc_abs(a):
    if a >= {P}:
        return _nc_sneg(a)
    return a
""", ("_nc_sneg",)),
    "_nc_smin": ("""
def _nc_smin(a, b):
    if b + {B} < a + {B}:
        return b
    return a
""", ()),
    "_nc_smax": ("""
def _nc_smax(a, b):
    if b + {B} > a + {B}:
        return b
    return a
""", ()),
    "_nc_sminlist": ("""
def _nc_sminlist(xs):
    r = xs[0]
    for x in xs:
        if x + {B} < r + {B}:
            r = x
    return r
""", ()),
    "_nc_smaxlist": ("""
def _nc_smaxlist(xs):
    r = xs[0]
    for x in xs:
        if x + {B} > r + {B}:
            r = x
    return r
""", ()),
    "_nc_ssorted": ("""
def _nc_ssorted(xs):
    ys = list(xs)
    i = 1
    while i < len(ys):
        x = ys[i]
        j = i
        while j > 0 and ys[j - 1] + {B} > x + {B}:
            ys[j] = ys[j - 1]
            j = j - 1
        ys[j] = x
        i = i + 1
    return ys
""", ()),
    "_nc_sadd": ("""
def _nc_sadd(a, b):
    r = a + b
    na = a >= {P}
    if na == (b >= {P}) and na != (r >= {P}):
        raise OverflowError("integer overflow")
    return r
""", ()),
    "_nc_ssub": ("""
def _nc_ssub(a, b):
    r = a - b
    na = a >= {P}
    if na != (b >= {P}) and na != (r >= {P}):
        raise OverflowError("integer overflow")
    return r
""", ()),
    "_nc_smul": ("""
def _nc_smul(a, b):
    na = a >= {P}
    nb = b >= {P}
    ma = a
    mb = b
    if na:
        ma = 0 - a
    if nb:
        mb = 0 - b
    most = {P} - 1
    if na != nb:
        most = {B}
    if ma != 0 and mb > most // ma:
        raise OverflowError("integer overflow")
    return a * b
""", ()),
    "_nc_sneg": ("""
def _nc_sneg(a):
    if a == {B} and {B} == {P}:
        raise OverflowError("integer overflow")
    return 0 - a
""", ()),
    "_nc_isqrt": ("""
def _nc_isqrt(x):
    r = 0
    while r + 1 <= x // (r + 1):
        r = r + 1
    return r
""", ()),
    "_nc_gcd": ("""
def _nc_gcd(a, b):
    while b != 0:
        t = a % b
        a = b
        b = t
    return a
""", ()),
    "_nc_sgcd": ("""
def _nc_sgcd(a, b):
    if a >= {P}:
        a = 0 - a
    if b >= {P}:
        b = 0 - b
    while b != 0:
        t = a % b
        a = b
        b = t
    return a
""", ()),
    "_nc_slice_bound": ("""
def _nc_slice_bound(i, k):
    if i >= {P}:
        i = i + k
        if i >= {P}:
            i = 0
    return i
""", ()),
    "_nc_slice_down": ("""
def _nc_slice_down(i, k):
    if i >= {P}:
        i = i + k
        if i >= {P}:
            i = {N1}
    return i
""", ()),
    "_nc_ssort": ("""
def _nc_ssort(ys):
    i = 1
    while i < len(ys):
        x = ys[i]
        j = i
        while j > 0 and ys[j - 1] + {B} > x + {B}:
            ys[j] = ys[j - 1]
            j = j - 1
        ys[j] = x
        i = i + 1
    return 0
""", ()),
    "_nc_index": ("""
def _nc_index(i, k):
    if i >= {P}:
        return i + k
    return i
""", ()),
}


@lru_cache(maxsize=64)
def _parsed(name: str, n: int) -> str:
    b = n // 2
    return HELPERS[name][0].format(B=b, P=n - b, N1=n - 1)


def prelude_functions(names: set[str], n: int) -> list[ast.FunctionDef]:
    """Fresh definitions of the helpers ``names`` and those they call, in a stable order."""
    want: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name not in want:
            want.add(name)
            todo.extend(HELPERS[name][1])
    return [ast.parse(_parsed(name, n)).body[0] for name in HELPERS if name in want]
