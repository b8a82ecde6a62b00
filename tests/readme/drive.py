"""Runs one Python snippet from README.md the way a user's training would, then exits.

Usage: python3 drive.py KIND SNIPPET_FILE   (run in an empty directory; the log goes to run/logs.jsonl)

KIND picks how the snippet is driven:
  loop          the snippet is a training loop; train_step(), evaluate() and scheduler are given to it
  transformers  the snippet defines JsonlLogger(TrainerCallback); a simulated Trainer calls its hooks
  lightning     the snippet defines JsonlLogger(pl.Callback); a simulated Trainer calls its hooks
  keras         the snippet defines JsonlLogger(keras.callbacks.Callback); a simulated fit() calls it
  model         the snippet writes `model`'s module tree (a stand-in with torch.nn.Module's
                named_children(), parameters() and extra_repr()); training lines follow
  histograms    the snippet defines log_histograms(log, model, step); a loop calls it on a model
                whose weights spread as it trains (torch is a stub: histc, linspace, no_grad)

The frameworks themselves are not installed in CI: tests/readme/stubs holds the few names the snippets
import (a base class each), and this file calls the hooks with the arguments the real frameworks pass.
"""
import math
import os
import random
import sys

kind, snippet = sys.argv[1], sys.argv[2]
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "stubs"))
os.makedirs("run", exist_ok=True)
rng = random.Random(7)
source = open(snippet).read()


def loss_at(step):
    """A falling, noisy loss, as float32 values print (they are what .item() gives)."""
    return 2.0 * math.exp(-step / 80.0) + 0.1 + rng.random() * 0.05


if kind == "loop":
    class Scheduler:
        def get_last_lr(self):
            return [3e-4]

    steps = iter(range(1, 10_000))

    def train_step():
        step = next(steps)
        return float("nan") if step == 150 else loss_at(step)

    def evaluate():
        return loss_at(100) + 0.05

    exec(compile(source, snippet, "exec"), {"train_step": train_step, "evaluate": evaluate,
                                             "scheduler": Scheduler(), "__name__": "__main__"})
    sys.exit(0)

if kind == "model":
    class Param:
        def __init__(self, n):
            self.n = n

        def numel(self):
            return self.n

    class Module:
        """What the helper uses of torch.nn.Module."""

        def __init__(self, own=(), extra="", children=()):
            self._own, self._extra, self._children = list(own), extra, list(children)

        def parameters(self):
            yield from (Param(n) for n in self._own)
            for _, c in self._children:
                yield from c.parameters()

        def named_children(self):
            return iter(self._children)

        def extra_repr(self):
            return self._extra

    class Linear(Module):
        def __init__(self, i, o):
            super().__init__([i * o, o], f"in_features={i}, out_features={o}, bias=True")

    class ReLU(Module):
        pass

    class Sequential(Module):
        def __init__(self, *mods):
            super().__init__(children=[(str(i), m) for i, m in enumerate(mods)])

    model = Sequential(Linear(4, 8), ReLU(), Linear(8, 8), ReLU(), Linear(8, 2))
    exec(compile(source, snippet, "exec"), {"model": model, "__name__": "__main__"})
    with open("run/logs.jsonl", "a") as log:
        for step in range(1, 101):
            log.write('{"step": %d, "loss": %r}\n' % (step, loss_at(step)))
    sys.exit(0)

namespace = {"__name__": "readme_snippet"}
exec(compile(source, snippet, "exec"), namespace)
logger = namespace["JsonlLogger"]() if "JsonlLogger" in namespace else None


class Obj:
    def __init__(self, **kw):
        self.__dict__.update(kw)


class Scalar(float):
    """Stands in for a 0-d tensor: float(x) works, as on torch tensors."""


if kind == "transformers":
    state = Obj(global_step=0, is_world_process_zero=True, epoch=0.0)
    for step in range(1, 201):
        state.global_step = step
        if step % 10 == 0:
            logs = {"loss": round(loss_at(step), 4), "grad_norm": 1.5, "learning_rate": 3e-4,
                    "epoch": step / 100}
            logger.on_log(Obj(), state, Obj(), logs=logs)
        if step % 50 == 0:
            logger.on_log(Obj(), state, Obj(), logs={"eval_loss": loss_at(step) + 0.1,
                                                     "eval_runtime": 1.2, "epoch": step / 100})
elif kind == "lightning":
    trainer = Obj(global_step=0, is_global_zero=True, callback_metrics={})
    for step in range(1, 201):
        trainer.global_step = step
        trainer.callback_metrics["train_loss"] = Scalar(loss_at(step))
        logger.on_train_batch_end(trainer, None, None, None, step - 1)
        if step % 50 == 0:
            trainer.callback_metrics["val_loss"] = Scalar(loss_at(step) + 0.1)
            logger.on_validation_end(trainer, None)
elif kind == "keras":
    for epoch in range(4):
        for batch in range(50):
            step = epoch * 50 + batch + 1
            logger.on_train_batch_end(batch, logs={"loss": loss_at(step), "accuracy": 0.5 + step / 500})
        logger.on_epoch_end(epoch, logs={"loss": loss_at(step), "accuracy": 0.9,
                                         "val_loss": loss_at(step) + 0.1, "val_accuracy": 0.85})
elif kind == "histograms":
    import torch

    class Model:
        def __init__(self):
            self.params = {"fc1.weight": torch.Tensor([0.0] * 256), "fc1.bias": torch.Tensor([0.0] * 16)}

        def named_parameters(self):
            return iter(self.params.items())

    model = Model()
    log = open("run/logs.jsonl", "a")
    for step in range(1, 501):
        width = 0.05 * (1 + step / 500)
        w = model.params["fc1.weight"]
        w.values = [rng.gauss(0.0, width) for _ in w.values]
        w.grad = torch.Tensor([rng.gauss(0.0, 0.01) for _ in w.values])
        model.params["fc1.bias"].values = [0.0] * 16  # zero: one bin, zero width
        log.write('{"step": %d, "loss": %r}\n' % (step, loss_at(step)))
        namespace["log_histograms"](log, model, step)
        log.flush()
else:
    sys.exit(f"unknown kind {kind}")
