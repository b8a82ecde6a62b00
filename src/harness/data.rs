//! Generated classification data for the harness: Gaussian inputs labelled by a fixed random
//! "teacher" network, with optional label noise (which is what lets a big model on few samples
//! overfit: it memorises the wrong labels).

use super::rng::Rng;

/// Samples stored row-major: `x` is `n x dim`.
#[derive(Clone, Debug)]
pub struct Dataset {
    pub x: Vec<f32>,
    pub y: Vec<usize>,
    pub dim: usize,
}

/// The labelling function shared by the train and validation sets of one run.
#[derive(Clone, Debug)]
pub struct Teacher {
    w1: Vec<f64>,
    w2: Vec<f64>,
    dim: usize,
    hidden: usize,
    classes: usize,
}

impl Teacher {
    pub fn new(dim: usize, classes: usize, rng: &mut Rng) -> Self {
        let hidden = 16;
        let w1 = (0..dim * hidden).map(|_| rng.normal() / (dim as f64).sqrt()).collect();
        let w2 = (0..hidden * classes).map(|_| rng.normal() * 2.0 / (hidden as f64).sqrt()).collect();
        Teacher { w1, w2, dim, hidden, classes }
    }

    fn label(&self, x: &[f32]) -> usize {
        let h: Vec<f64> = (0..self.hidden)
            .map(|j| (0..self.dim).map(|i| self.w1[j * self.dim + i] * x[i] as f64).sum::<f64>().tanh())
            .collect();
        let score = |c: usize| (0..self.hidden).map(|j| self.w2[c * self.hidden + j] * h[j]).sum::<f64>();
        (0..self.classes).max_by(|&a, &b| score(a).total_cmp(&score(b))).unwrap_or(0)
    }

    /// `n` samples; each label is replaced by a uniformly random class with probability `noise`.
    pub fn sample(&self, n: usize, noise: f64, rng: &mut Rng) -> Dataset {
        let mut x = Vec::with_capacity(n * self.dim);
        let mut y = Vec::with_capacity(n);
        for _ in 0..n {
            let row: Vec<f32> = (0..self.dim).map(|_| rng.normal() as f32).collect();
            let clean = self.label(&row);
            y.push(if rng.uniform() < noise { rng.below(self.classes) } else { clean });
            x.extend_from_slice(&row);
        }
        Dataset { x, y, dim: self.dim }
    }
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.y.len()
    }

    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// A minibatch drawn with replacement.
    pub fn batch(&self, size: usize, rng: &mut Rng) -> (Vec<f32>, Vec<usize>) {
        let mut x = Vec::with_capacity(size * self.dim);
        let mut y = Vec::with_capacity(size);
        for _ in 0..size {
            let i = rng.below(self.len());
            x.extend_from_slice(&self.x[i * self.dim..(i + 1) * self.dim]);
            y.push(self.y[i]);
        }
        (x, y)
    }
}
