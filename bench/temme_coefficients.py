"""Generate the polynomial coefficients planner/solver/poisson.py uses near lambda = 1.

Temme's coefficients c0, c1, c2 (DLMF 8.12.4, c_k from c_{k-1} by the recursion of DLMF 8.12.9
with the Stirling coefficients 1/12, 1/288) are differences of terms that grow like 1/mu^5 as
mu = lambda - 1 -> 0. Evaluated at 90 digits they are smooth; Chebyshev fits on -0.3 < mu <= 0
(the queueing model has lambda < 1) of degree 9, 7 and 5 reproduce them to ~1e-12, ~1e-10 and
~1e-10, so each term of the expansion errs by under 1e-12 of the result (c_k is divided by s^k, s > 40),
and those fits are what the module ships.

    pip install mpmath && python bench/temme_coefficients.py
"""

from __future__ import annotations

import mpmath as mp  # type: ignore[import-untyped]

mp.mp.dps = 90
TINY = mp.mpf(10) ** -20


def _mu(m: mp.mpf) -> mp.mpf:
    return m if abs(m) > TINY else TINY


def eta(m: mp.mpf) -> mp.mpf:
    m = _mu(m)
    return mp.sign(m) * mp.sqrt(2 * (m - mp.log1p(m)))


def c0(m: mp.mpf) -> mp.mpf:
    m = _mu(m)
    return 1 / m - 1 / eta(m)


def c1(m: mp.mpf) -> mp.mpf:
    m = _mu(m)
    e = eta(m)
    return 1 / e**3 - 1 / m**3 - 1 / m**2 - 1 / (12 * m)


def c2(m: mp.mpf) -> mp.mpf:
    m = _mu(m)
    e = eta(m)
    return -3 / e**5 + 3 / m**5 + 5 / m**4 + mp.mpf(25) / 12 / m**3 + mp.mpf(1) / 12 / m**2 + mp.mpf(1) / 288 / m


def main() -> None:
    assert abs(c0(mp.mpf("1e-9")) + mp.mpf(1) / 3) < 1e-8  # DLMF 8.12.8: c0(0) = -1/3
    assert abs(c2(mp.mpf("1e-9")) - mp.mpf(25) / 6048) < 1e-8  # c2(0) = 25/6048
    for name, f, degree in (("_C0", c0, 9), ("_C1", c1, 7), ("_C2", c2, 5)):
        poly, err = mp.chebyfit(f, [-0.31, 0.01], degree + 1, error=True)
        print(f"{name} = (" + ", ".join(repr(float(p)) for p in poly) + f")  # max error {mp.nstr(err, 2)}")


if __name__ == "__main__":
    main()
