"""Test stub: only the base class README's callback imports (the real one is in transformers)."""


class TrainerCallback:
    pass
