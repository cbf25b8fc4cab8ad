"""The textbook L-BFGS two-loop recursion in NumPy (Nocedal & Wright, Algorithm 7.4, with
the initial scaling ``gamma = s.y / y.y`` of the newest pair): the reference that the tests
of ``fastopt.second_order._vec.LBFGSMemory`` compare its directions with."""


def two_loop_direction(pairs, g):
    """``-H g`` for the ``(s, y)`` pairs, oldest first."""
    q = g.copy()
    alphas = []
    for s, y in reversed(pairs):
        a = (s @ q) / (s @ y)
        alphas.append(a)
        q -= a * y
    s, y = pairs[-1]
    r = (s @ y) / (y @ y) * q
    for (s, y), a in zip(pairs, reversed(alphas)):
        b = (y @ r) / (s @ y)
        r += (a - b) * s
    return -r
