//! The harness's model: a small multi-layer perceptron in `f32` (as real training runs), with a
//! softmax cross-entropy head, hand-written backpropagation, and SGD-with-momentum or Adam.
//!
//! Overflow is not guarded: a learning rate that is too high grows the weights until a logit is
//! infinite and the loss becomes NaN, exactly how a real run dies.

use super::rng::Rng;

/// The hidden layers' activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Act {
    Relu,
    Sigmoid,
}

/// One dense layer: `w` is `n_out x n_in`, row-major.
#[derive(Clone, Debug)]
pub struct Layer {
    pub w: Vec<f32>,
    pub b: Vec<f32>,
    pub n_in: usize,
    pub n_out: usize,
}

/// The loss on the outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Head {
    /// Softmax cross-entropy, computed stably (log-sum-exp).
    SoftmaxCe,
    /// Squared error against the one-hot label, summed over classes (as toy scripts do). Unlike
    /// cross-entropy its gradient grows with the error, so a too-high learning rate diverges
    /// geometrically, to infinity and then NaN.
    Mse,
}

#[derive(Clone, Debug)]
pub struct Mlp {
    pub layers: Vec<Layer>,
    pub act: Act,
    pub head: Head,
}

/// Gradients of every layer, shaped as the layers.
#[derive(Clone, Debug)]
pub struct Grads {
    pub w: Vec<Vec<f32>>,
    pub b: Vec<Vec<f32>>,
}

/// What one training step measured.
#[derive(Clone, Debug)]
pub struct StepStats {
    pub loss: f32,
    pub acc: f32,
    /// L2 norm of each layer's gradient (weights and bias), input layer first.
    pub layer_norms: Vec<f32>,
    pub grad_norm: f32,
    /// Fraction of hidden units that get no gradient from any sample of the batch: their ReLU
    /// output is 0 (dead), or every unit they feed is dead, so they can no longer learn. This is
    /// AUTOTRAINER's "share of zero gradients" measured per unit.
    pub dead_frac: f32,
}

impl Mlp {
    /// `dims` = input, hidden..., classes. Weights ~ N(0, gain/fan_in) (He for ReLU, LeCun for
    /// sigmoid); hidden biases start at `bias_init`.
    pub fn new(dims: &[usize], act: Act, head: Head, bias_init: f32, rng: &mut Rng) -> Self {
        let gain = if act == Act::Relu { 2.0 } else { 1.0 };
        let layers = dims
            .windows(2)
            .enumerate()
            .map(|(i, d)| {
                let (n_in, n_out) = (d[0], d[1]);
                let std = (gain / n_in as f64).sqrt();
                let w = (0..n_in * n_out).map(|_| (rng.normal() * std) as f32).collect();
                let hidden = i + 2 < dims.len();
                let b = vec![if hidden { bias_init } else { 0.0 }; n_out];
                Layer { w, b, n_in, n_out }
            })
            .collect();
        Mlp { layers, act, head }
    }

    /// Activations of every layer for a batch: `[x, h1, ..., logits]`, each `batch x width`.
    fn forward(&self, x: &[f32], batch: usize) -> Vec<Vec<f32>> {
        let mut acts = vec![x.to_vec()];
        let last = self.layers.len() - 1;
        for (l, layer) in self.layers.iter().enumerate() {
            let a = &acts[l];
            let mut z = vec![0f32; batch * layer.n_out];
            for s in 0..batch {
                let row = &a[s * layer.n_in..(s + 1) * layer.n_in];
                for o in 0..layer.n_out {
                    let w = &layer.w[o * layer.n_in..(o + 1) * layer.n_in];
                    let v = dot(w, row) + layer.b[o];
                    z[s * layer.n_out + o] = if l == last {
                        v
                    } else {
                        match self.act {
                            Act::Relu => v.max(0.0),
                            Act::Sigmoid => 1.0 / (1.0 + (-v).exp()),
                        }
                    };
                }
            }
            acts.push(z);
        }
        acts
    }

    /// Mean loss and accuracy over a batch, plus d(loss)/d(logits) when asked.
    fn head(&self, logits: &[f32], y: &[usize], classes: usize, want_grad: bool) -> (f32, f32, Vec<f32>) {
        let batch = y.len();
        let mut loss = 0f32;
        let mut correct = 0usize;
        let mut grad = if want_grad { vec![0f32; logits.len()] } else { Vec::new() };
        for s in 0..batch {
            let z = &logits[s * classes..(s + 1) * classes];
            let arg = (0..classes).max_by(|&i, &j| z[i].total_cmp(&z[j])).unwrap_or(0);
            correct += usize::from(arg == y[s]);
            if self.head == Head::Mse {
                for c in 0..classes {
                    let e = z[c] - if c == y[s] { 1.0 } else { 0.0 };
                    loss += e * e;
                    if want_grad {
                        grad[s * classes + c] = 2.0 * e / batch as f32;
                    }
                }
                continue;
            }
            // An infinite logit makes `z - m` NaN: the loss turns NaN as in a real framework.
            let m = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let sum: f32 = z.iter().map(|v| (v - m).exp()).sum();
            loss += m + sum.ln() - z[y[s]];
            if want_grad {
                for c in 0..classes {
                    let p = (z[c] - m).exp() / sum;
                    let t = if c == y[s] { 1.0 } else { 0.0 };
                    grad[s * classes + c] = (p - t) / batch as f32;
                }
            }
        }
        (loss / batch as f32, correct as f32 / batch as f32, grad)
    }

    /// Mean loss of the logits scaled by `t` (an auxiliary head's confidence), no gradients.
    pub fn loss_at(&self, x: &[f32], y: &[usize], t: f32) -> f32 {
        let acts = self.forward(x, y.len());
        let classes = self.layers[self.layers.len() - 1].n_out;
        let logits: Vec<f32> = acts[acts.len() - 1].iter().map(|z| z * t).collect();
        self.head(&logits, y, classes, false).0
    }

    /// Loss and accuracy without gradients (evaluation).
    pub fn evaluate(&self, x: &[f32], y: &[usize]) -> (f32, f32) {
        let acts = self.forward(x, y.len());
        let classes = self.layers[self.layers.len() - 1].n_out;
        let (loss, acc, _) = self.head(&acts[acts.len() - 1], y, classes, false);
        (loss, acc)
    }

    /// Forward and backward pass over one batch.
    pub fn loss_and_grads(&self, x: &[f32], y: &[usize]) -> (StepStats, Grads) {
        let batch = y.len();
        let acts = self.forward(x, batch);
        let n = self.layers.len();
        let (loss, acc, mut delta) = self.head(&acts[n], y, self.layers[n - 1].n_out, true);
        let mut gw: Vec<Vec<f32>> = Vec::with_capacity(n);
        let mut gb: Vec<Vec<f32>> = Vec::with_capacity(n);
        let (mut dead_units, mut hidden_units) = (0usize, 0usize);
        for l in (0..n).rev() {
            let layer = &self.layers[l];
            let a = &acts[l];
            let mut dw = vec![0f32; layer.n_out * layer.n_in];
            let mut db = vec![0f32; layer.n_out];
            for s in 0..batch {
                let row = &a[s * layer.n_in..(s + 1) * layer.n_in];
                for o in 0..layer.n_out {
                    let d = delta[s * layer.n_out + o];
                    db[o] += d;
                    axpy(&mut dw[o * layer.n_in..(o + 1) * layer.n_in], d, row);
                }
            }
            if l > 0 {
                let mut prev = vec![0f32; batch * layer.n_in];
                for s in 0..batch {
                    for o in 0..layer.n_out {
                        let d = delta[s * layer.n_out + o];
                        let w = &layer.w[o * layer.n_in..(o + 1) * layer.n_in];
                        axpy(&mut prev[s * layer.n_in..(s + 1) * layer.n_in], d, w);
                    }
                }
                for (p, &h) in prev.iter_mut().zip(a.iter()) {
                    *p *= match self.act {
                        Act::Relu => f32::from(h > 0.0),
                        Act::Sigmoid => h * (1.0 - h),
                    };
                }
                for u in 0..layer.n_in {
                    hidden_units += 1;
                    dead_units += usize::from((0..batch).all(|s| prev[s * layer.n_in + u] == 0.0));
                }
                delta = prev;
            }
            gw.push(dw);
            gb.push(db);
        }
        gw.reverse();
        gb.reverse();
        let layer_norms: Vec<f32> =
            gw.iter().zip(&gb).map(|(w, b)| w.iter().chain(b).map(|g| g * g).sum::<f32>().sqrt()).collect();
        let grad_norm = layer_norms.iter().map(|g| g * g).sum::<f32>().sqrt();
        let dead_frac = dead_units as f32 / hidden_units.max(1) as f32;
        (StepStats { loss, acc, layer_norms, grad_norm, dead_frac }, Grads { w: gw, b: gb })
    }
}

/// Mixed precision: turns `g` into the gradients a float16 backward pass of the loss scaled by
/// `scale` gives once unscaled: each scaled value rounded to float16 (overflowing to infinity
/// beyond 65504), then divided by the scale in float32. Returns true when one overflowed (the
/// step must be skipped).
pub fn half_gradients(g: &mut Grads, scale: f32) -> bool {
    let mut overflow = false;
    for t in g.w.iter_mut().chain(g.b.iter_mut()) {
        for v in t.iter_mut() {
            let h = half::f16::from_f32(*v * scale);
            overflow |= !h.is_finite();
            *v = h.to_f32() / scale;
        }
    }
    overflow
}

/// Recomputes the gradient norms of `stats` from `g` (after [`half_gradients`]).
pub fn norms_into(g: &Grads, stats: &mut StepStats) {
    stats.layer_norms =
        g.w.iter().zip(&g.b).map(|(w, b)| w.iter().chain(b).map(|x| x * x).sum::<f32>().sqrt()).collect();
    stats.grad_norm = stats.layer_norms.iter().map(|x| x * x).sum::<f32>().sqrt();
}

// Plain index loops: the tests run this in debug builds, where iterator chains cost several
// times more than the arithmetic.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = 0f32;
    for k in 0..n {
        acc += a[k] * b[k];
    }
    acc
}

fn axpy(y: &mut [f32], alpha: f32, x: &[f32]) {
    let n = y.len().min(x.len());
    let (y, x) = (&mut y[..n], &x[..n]);
    for k in 0..n {
        y[k] += alpha * x[k];
    }
}

/// The update rule.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OptKind {
    Sgd { momentum: f32 },
    Adam,
}

/// Optimizer state (momentum, Adam moments) for every parameter tensor.
#[derive(Clone, Debug)]
pub struct Optimizer {
    kind: OptKind,
    m: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
    t: i32,
}

impl Optimizer {
    pub fn new(kind: OptKind, model: &Mlp) -> Self {
        let zeros: Vec<Vec<f32>> =
            model.layers.iter().flat_map(|l| [vec![0f32; l.w.len()], vec![0f32; l.b.len()]]).collect();
        Optimizer { kind, m: zeros.clone(), v: zeros, t: 0 }
    }

    pub fn step(&mut self, model: &mut Mlp, g: &Grads, lr: f32) {
        self.t += 1;
        let (b1, b2, eps) = (0.9f32, 0.999f32, 1e-8f32);
        let (c1, c2) = (1.0 - b1.powi(self.t), 1.0 - b2.powi(self.t));
        for (l, layer) in model.layers.iter_mut().enumerate() {
            for (k, (p, gr)) in [(&mut layer.w, &g.w[l]), (&mut layer.b, &g.b[l])].into_iter().enumerate() {
                let i = 2 * l + k;
                let (m, v) = (&mut self.m[i], &mut self.v[i]);
                let n = p.len().min(gr.len()).min(m.len()).min(v.len());
                match self.kind {
                    OptKind::Sgd { momentum } => {
                        for j in 0..n {
                            m[j] = momentum * m[j] + gr[j];
                            p[j] -= lr * m[j];
                        }
                    }
                    OptKind::Adam => {
                        for j in 0..n {
                            m[j] = b1 * m[j] + (1.0 - b1) * gr[j];
                            v[j] = b2 * v[j] + (1.0 - b2) * gr[j] * gr[j];
                            p[j] -= lr * (m[j] / c1) / ((v[j] / c2).sqrt() + eps);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Backprop checked against central finite differences on a tiny net.
    #[test]
    fn gradients_match_finite_differences() {
        for (act, head) in
            [(Act::Relu, Head::SoftmaxCe), (Act::Sigmoid, Head::SoftmaxCe), (Act::Relu, Head::Mse)]
        {
            let mut rng = Rng::new(3);
            let mut m = Mlp::new(&[3, 4, 3], act, head, 0.1, &mut rng);
            let x: Vec<f32> = (0..6).map(|_| rng.normal() as f32).collect();
            let y = vec![0usize, 2];
            let (_, g) = m.loss_and_grads(&x, &y);
            for (l, j) in [(0usize, 1usize), (0, 7), (1, 2), (1, 10)] {
                let h = 1e-2f32;
                let orig = m.layers[l].w[j];
                m.layers[l].w[j] = orig + h;
                let up = m.evaluate(&x, &y).0;
                m.layers[l].w[j] = orig - h;
                let down = m.evaluate(&x, &y).0;
                m.layers[l].w[j] = orig;
                let numeric = (up - down) / (2.0 * h);
                assert!(
                    (numeric - g.w[l][j]).abs() < 2e-3,
                    "{act:?} layer {l} w{j}: {numeric} vs {}",
                    g.w[l][j]
                );
            }
        }
    }
}
