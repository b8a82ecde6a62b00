"""Test stub: only the base class README's callback imports (the real one is keras.callbacks.Callback)."""


class _Callbacks:
    class Callback:
        def __init__(self):
            pass


callbacks = _Callbacks
