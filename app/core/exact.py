"""The total loss by naive loops in 60-digit decimal arithmetic: a second, independent implementation.

The gradient check differences losses at ``θ ± h``. In float64 that difference carries rounding noise of
about ``1e-16 · L / h ≈ 1e-11``, which makes an exactly-zero analytic gradient (common with hinge losses: the
default state has ``∂L/∂b[2] = 0``) look 100 % wrong under ``|a − n| / max(|a|, |n|, 1e-12)``. Every float64
is a finite decimal, and sums and products of a few of them fit in 60 digits, so here the hinge losses and
the regularization term are computed *exactly*; softmax's ``exp`` and ``log`` are correct to ~55 digits.
"""

from decimal import Context, Decimal

CONTEXT = Context(prec=60)
ONE, ZERO = Decimal(1), Decimal(0)


def _example_loss(s, y, loss_type):
    rivals = [s[j] for j in range(len(s)) if j != y]
    if loss_type == "svm_ww":
        return sum((max(ZERO, r - s[y] + ONE) for r in rivals), ZERO)
    if loss_type == "svm_ova":
        return sum((max(ZERO, ONE - (s[j] if j == y else -s[j])) for j in range(len(s))), ZERO)
    if loss_type == "svm_structured":
        return max(ZERO, max(rivals) - s[y] + ONE) if rivals else ZERO
    top = max(s)
    return (sum((CONTEXT.exp(v - top) for v in s), ZERO)).ln(CONTEXT) - (s[y] - top)


def total_loss(W, b, X, y, reg, loss_type):
    """``(1/N) Σ_i L_i + λ Σ W²``, evaluated exactly (hinge) or to 55 digits (softmax); returns a Decimal."""
    from decimal import localcontext

    with localcontext(CONTEXT):
        W = [[Decimal(float(v)) for v in row] for row in W]
        b = [Decimal(float(v)) for v in b]
        total = ZERO
        for (x0, x1), label in zip(X, y):
            x0, x1 = Decimal(float(x0)), Decimal(float(x1))
            s = [w0 * x0 + w1 * x1 + bk for (w0, w1), bk in zip(W, b)]
            total += _example_loss(s, int(label), loss_type)
        return total / len(y) + Decimal(float(reg)) * sum((v * v for row in W for v in row), ZERO)
