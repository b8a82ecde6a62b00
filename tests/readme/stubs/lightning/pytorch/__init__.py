"""Test stub: only the base class README's callback imports (the real one is lightning.pytorch.Callback)."""


class Callback:
    pass
