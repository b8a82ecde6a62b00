"""The few names of torch the README's histogram helper uses, for CI (torch is not installed).

`histc` counts as torch does: `bins` equal bins from `min` to `max`, values outside ignored, the top
edge in the last bin; `min == max` means the data's own min and max (widened by 1 when equal).
"""
import contextlib


class Tensor:
    def __init__(self, values):
        self.values = [float(v) for v in values]
        self.grad = None

    def detach(self):
        return Tensor(self.values)

    def float(self):
        return self

    def min(self):
        return Tensor([min(self.values)])

    def max(self):
        return Tensor([max(self.values)])

    def item(self):
        return self.values[0]

    def tolist(self):
        return list(self.values)


def no_grad():
    return contextlib.nullcontext()


def histc(t, bins=100, min=0, max=0):
    lo, hi = float(min), float(max)
    if lo == hi:
        lo, hi = t.min().item(), t.max().item()
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    counts = [0.0] * bins
    for v in t.values:
        if lo <= v <= hi:
            counts[int((v - lo) * bins / (hi - lo)) if v < hi else bins - 1] += 1
    return Tensor(counts)


def linspace(start, end, steps):
    return Tensor([start + (end - start) * k / (steps - 1) for k in range(steps)])
