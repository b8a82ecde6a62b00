//! Parameter counts and shape hints from what a module prints about itself (its `extra_repr`):
//! `Linear(in_features=768, out_features=3072, bias=True)` has 768·3072 + 3072 parameters and
//! reads `Linear(768→3072)`. Only layers whose printed arguments fix their parameters are
//! counted; anything else is [`Params::Unknown`], never a guess.

use std::fmt;

/// A parameter count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Params {
    Exact(u64),
    /// Some part is unknown: at least this many.
    AtLeast(u64),
    Unknown,
}

impl Params {
    pub fn plus(self, o: Params) -> Params {
        use Params::*;
        match (self, o) {
            (Exact(a), Exact(b)) => Exact(a.saturating_add(b)),
            (Exact(a) | AtLeast(a), Exact(b) | AtLeast(b)) => AtLeast(a.saturating_add(b)),
            (Exact(a) | AtLeast(a), Unknown) | (Unknown, Exact(a) | AtLeast(a)) => AtLeast(a),
            (Unknown, Unknown) => Unknown,
        }
    }
    pub fn times(self, k: u64) -> Params {
        match self {
            Params::Exact(a) => Params::Exact(a.saturating_mul(k)),
            Params::AtLeast(a) => Params::AtLeast(a.saturating_mul(k)),
            Params::Unknown => Params::Unknown,
        }
    }
    pub fn at_least(self) -> Params {
        match self {
            Params::Exact(a) | Params::AtLeast(a) => Params::AtLeast(a),
            Params::Unknown => Params::Unknown,
        }
    }
    pub fn exact(self) -> Option<u64> {
        match self {
            Params::Exact(a) => Some(a),
            _ => None,
        }
    }
}

/// `124M`, `≥1.20M`, `?` (nothing known).
impl fmt::Display for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Params::Exact(n) => f.write_str(&crate::text::compact(n)),
            Params::AtLeast(0) | Params::Unknown => f.write_str("?"),
            Params::AtLeast(n) => write!(f, "≥{}", crate::text::compact(n)),
        }
    }
}

/// A module's printed arguments: positional ones and `key=value` ones, split at top-level commas.
struct Args<'a> {
    pos: Vec<&'a str>,
    kw: Vec<(&'a str, &'a str)>,
}

impl<'a> Args<'a> {
    fn parse(s: &'a str) -> Args<'a> {
        let mut pos = Vec::new();
        let mut kw = Vec::new();
        let (mut depth, mut start) = (0i32, 0usize);
        let bytes = s.as_bytes();
        let mut push = |part: &'a str| {
            let part = part.trim();
            if part.is_empty() {
                return;
            }
            match part.split_once('=') {
                Some((k, v)) if !k.contains('(') && !k.trim().contains(' ') => kw.push((k.trim(), v.trim())),
                _ => pos.push(part),
            }
        };
        for (i, &b) in bytes.iter().enumerate() {
            match b {
                b'(' | b'[' => depth += 1,
                b')' | b']' => depth -= 1,
                b',' if depth == 0 => {
                    push(&s[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        push(&s[start..]);
        Args { pos, kw }
    }
    fn get(&self, key: &str) -> Option<&'a str> {
        self.kw.iter().find(|(k, _)| *k == key).map(|&(_, v)| v)
    }
    /// Positional argument `i`, or the keyword one.
    fn arg(&self, i: usize, key: &str) -> Option<&'a str> {
        self.get(key).or_else(|| self.pos.get(i).copied())
    }
    fn int(&self, i: usize, key: &str) -> Option<u64> {
        self.arg(i, key)?.parse().ok()
    }
    fn flag(&self, key: &str, default: bool) -> Option<bool> {
        match self.get(key) {
            None => Some(default),
            Some("True") => Some(true),
            Some("False") => Some(false),
            Some(_) => None,
        }
    }
}

/// `(3, 3)` or `3` or `(768,)` as numbers.
fn ints(s: &str) -> Option<Vec<u64>> {
    let s = s.trim().trim_start_matches(['(', '[']).trim_end_matches([')', ']']);
    let v: Option<Vec<u64>> =
        s.split(',').map(str::trim).filter(|p| !p.is_empty()).map(|p| p.parse().ok()).collect();
    v.filter(|v| !v.is_empty())
}

fn product(v: &[u64]) -> Option<u64> {
    v.iter().try_fold(1u64, |a, &b| a.checked_mul(b))
}

/// Layers with no parameters of their own whatever their arguments.
const PARAM_FREE: &[&str] = &[
    "ReLU",
    "ReLU6",
    "GELU",
    "SiLU",
    "Mish",
    "Tanh",
    "Sigmoid",
    "Hardswish",
    "Hardsigmoid",
    "Hardtanh",
    "LeakyReLU",
    "ELU",
    "SELU",
    "CELU",
    "Softplus",
    "Softsign",
    "Softmax",
    "LogSoftmax",
    "Softmax2d",
    "GLU",
    "Identity",
    "Flatten",
    "Unflatten",
    "Dropout",
    "Dropout1d",
    "Dropout2d",
    "Dropout3d",
    "AlphaDropout",
    "MaxPool1d",
    "MaxPool2d",
    "MaxPool3d",
    "AvgPool1d",
    "AvgPool2d",
    "AvgPool3d",
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveAvgPool3d",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "AdaptiveMaxPool3d",
    "Upsample",
    "UpsamplingNearest2d",
    "UpsamplingBilinear2d",
    "PixelShuffle",
    "PixelUnshuffle",
    "ZeroPad2d",
    "ConstantPad1d",
    "ConstantPad2d",
    "ReflectionPad2d",
    "ReplicationPad2d",
    "ChannelShuffle",
    "Threshold",
    "Tanhshrink",
    "Softshrink",
    "Hardshrink",
    "LogSigmoid",
    // transformers' activations
    "NewGELUActivation",
    "GELUActivation",
    "FastGELUActivation",
    "QuickGELUActivation",
    "GELUTanh",
    "SiLUActivation",
    "PytorchGELUTanh",
    "ClassInstantier",
];

/// Containers that hold parameters of their own that `print` does not show.
pub fn own_params_hidden(kind: &str) -> bool {
    matches!(kind, "MultiheadAttention")
}

/// The parameters of a module with no children, from its printed arguments.
pub fn leaf_params(kind: &str, args: &str) -> Params {
    if PARAM_FREE.contains(&kind) {
        return Params::Exact(0);
    }
    leaf_count(kind, &Args::parse(args)).map_or(Params::Unknown, Params::Exact)
}

fn leaf_count(kind: &str, a: &Args<'_>) -> Option<u64> {
    let bias = |n: u64, key: &str| Some(if a.flag(key, true)? { n } else { 0 });
    match kind {
        "Linear" | "NonDynamicallyQuantizableLinear" | "LazyLinear" => {
            let (i, o) = (a.int(0, "in_features")?, a.int(1, "out_features")?);
            Some(i.checked_mul(o)? + bias(o, "bias")?)
        }
        "Bilinear" => {
            let (i1, i2, o) =
                (a.int(0, "in1_features")?, a.int(1, "in2_features")?, a.int(2, "out_features")?);
            Some(i1.checked_mul(i2)?.checked_mul(o)? + bias(o, "bias")?)
        }
        // transformers' GPT-2 `Conv1D(nf=2304, nx=768)`: a linear layer nx -> nf.
        "Conv1D" => {
            let (nf, nx) = (a.int(0, "nf")?, a.int(1, "nx")?);
            Some(nf.checked_mul(nx)? + nf)
        }
        "Conv1d" | "Conv2d" | "Conv3d" | "ConvTranspose1d" | "ConvTranspose2d" | "ConvTranspose3d" => {
            let (i, o) = (a.int(0, "in_channels")?, a.int(1, "out_channels")?);
            let dims = kind.as_bytes()[kind.len() - 2] - b'0';
            let mut k = ints(a.arg(2, "kernel_size")?)?;
            if k.len() == 1 {
                k = vec![k[0]; dims as usize];
            }
            let g = match a.get("groups") {
                Some(g) => g.parse().ok()?,
                None => 1u64,
            };
            let per = if kind.starts_with("ConvTranspose") {
                i.checked_mul(o / g.max(1))?
            } else {
                o.checked_mul(i / g.max(1))?
            };
            Some(per.checked_mul(product(&k)?)? + bias(o, "bias")?)
        }
        "Embedding" => Some(a.int(0, "num_embeddings")?.checked_mul(a.int(1, "embedding_dim")?)?),
        "EmbeddingBag" => Some(a.int(0, "num_embeddings")?.checked_mul(a.int(1, "embedding_dim")?)?),
        "LayerNorm" | "RMSNorm" => {
            let shape = product(&ints(a.arg(0, "normalized_shape")?)?)?;
            if !a.flag("elementwise_affine", true)? {
                return Some(0);
            }
            let with_bias = kind == "LayerNorm" && a.flag("bias", true)?;
            Some(if with_bias { 2 * shape } else { shape })
        }
        "BatchNorm1d" | "BatchNorm2d" | "BatchNorm3d" | "SyncBatchNorm" => {
            let c = a.int(0, "num_features")?;
            affine(c, a.flag("affine", true)?, a.flag("bias", true)?)
        }
        "InstanceNorm1d" | "InstanceNorm2d" | "InstanceNorm3d" => {
            let c = a.int(0, "num_features")?;
            affine(c, a.flag("affine", false)?, a.flag("bias", true)?)
        }
        "GroupNorm" => {
            let c = a.int(1, "num_channels")?;
            affine(c, a.flag("affine", true)?, a.flag("bias", true)?)
        }
        "PReLU" => Some(a.int(0, "num_parameters").unwrap_or(1)),
        "LSTM" | "GRU" | "RNN" => {
            let (i, h) = (a.int(0, "input_size")?, a.int(1, "hidden_size")?);
            let layers = a.get("num_layers").map_or(Some(1), |v| v.parse().ok())?;
            let dirs = if a.flag("bidirectional", false)? { 2 } else { 1 };
            let gates = match kind {
                "LSTM" => 4,
                "GRU" => 3,
                _ => 1,
            };
            if a.get("proj_size").is_some_and(|p| p != "0") {
                return None;
            }
            let b = if a.flag("bias", true)? { 2 * gates * h } else { 0 };
            let mut total = 0u64;
            for l in 0..layers {
                let input = if l == 0 { i } else { h * dirs };
                total += dirs * (gates * h * (input + h) + b);
            }
            Some(total)
        }
        _ => None,
    }
}

/// A norm layer's weight and bias over `c` channels (newer torch prints `bias=` too).
fn affine(c: u64, affine: bool, bias: bool) -> Option<u64> {
    Some(match (affine, bias) {
        (false, _) => 0,
        (true, true) => 2 * c,
        (true, false) => c,
    })
}

/// A short shape hint for a known layer: `Linear(768→3072)`, `Conv2d(3→64, 7×7, /2)`,
/// `Embedding(50257×768)`, `LayerNorm(768)`, `Dropout(0.1)`; `None` for others.
pub fn shape_hint(kind: &str, args: &str) -> Option<String> {
    let a = Args::parse(args);
    let dims = |v: &[u64]| v.iter().map(u64::to_string).collect::<Vec<_>>().join("×");
    let hint = match kind {
        "Linear" | "NonDynamicallyQuantizableLinear" => {
            format!("{}→{}", a.int(0, "in_features")?, a.int(1, "out_features")?)
        }
        "Conv1D" => format!("{}→{}", a.int(1, "nx")?, a.int(0, "nf")?),
        k if k.starts_with("Conv") => {
            let mut s = format!("{}→{}", a.int(0, "in_channels")?, a.int(1, "out_channels")?);
            if let Some(k) = a.arg(2, "kernel_size").and_then(ints) {
                s += &format!(", {}", dims(&k));
            }
            if let Some(st) = a.get("stride").and_then(ints).filter(|v| v.iter().any(|&x| x != 1)) {
                let uniform = st.iter().all(|&x| x == st[0]);
                s += &format!(", /{}", if uniform { st[0].to_string() } else { dims(&st) });
            }
            if let Some(g) = a.get("groups") {
                s += &format!(", g{g}");
            }
            s
        }
        "Embedding" | "EmbeddingBag" => {
            format!("{}×{}", a.int(0, "num_embeddings")?, a.int(1, "embedding_dim")?)
        }
        "LayerNorm" | "RMSNorm" => dims(&ints(a.arg(0, "normalized_shape")?)?),
        k if k.starts_with("BatchNorm") || k.starts_with("InstanceNorm") || k == "SyncBatchNorm" => {
            a.int(0, "num_features")?.to_string()
        }
        "GroupNorm" => format!("{}g, {}", a.int(0, "num_groups")?, a.int(1, "num_channels")?),
        k if k.starts_with("Dropout") => a.arg(0, "p")?.to_string(),
        k if k.contains("Pool") && !k.starts_with("Adaptive") => dims(&ints(a.arg(0, "kernel_size")?)?),
        k if k.starts_with("Adaptive") => {
            a.arg(0, "output_size")?.replace(", ", "×").trim_matches(['(', ')']).to_string()
        }
        "LSTM" | "GRU" | "RNN" => {
            let mut s = format!("{}→{}", a.int(0, "input_size")?, a.int(1, "hidden_size")?);
            if let Some(n) = a.get("num_layers") {
                s += &format!(", {n} layers");
            }
            s
        }
        _ => return None,
    };
    Some(format!("{kind}({hint})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_from_printed_shapes() {
        let p = |k, a| leaf_params(k, a);
        assert_eq!(
            p("Linear", "in_features=768, out_features=3072, bias=True"),
            Params::Exact(768 * 3072 + 3072)
        );
        assert_eq!(p("Linear", "in_features=512, out_features=10, bias=False"), Params::Exact(5120));
        assert_eq!(
            p("Conv2d", "3, 64, kernel_size=(7, 7), stride=(2, 2), padding=(3, 3), bias=False"),
            Params::Exact(3 * 64 * 49)
        );
        assert_eq!(p("Conv2d", "32, 32, kernel_size=(3, 3), groups=32"), Params::Exact(32 * 9 + 32));
        assert_eq!(p("Conv1d", "4, 8, kernel_size=(5,)"), Params::Exact(4 * 8 * 5 + 8));
        assert_eq!(p("Embedding", "50257, 768"), Params::Exact(50257 * 768));
        assert_eq!(p("LayerNorm", "(768,), eps=1e-05, elementwise_affine=True"), Params::Exact(1536));
        assert_eq!(p("LayerNorm", "(768,), eps=1e-05, elementwise_affine=False"), Params::Exact(0));
        assert_eq!(
            p("BatchNorm2d", "64, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True"),
            Params::Exact(128)
        );
        assert_eq!(p("Conv1D", "nf=2304, nx=768"), Params::Exact(2304 * 768 + 2304));
        assert_eq!(p("LSTM", "10, 20, num_layers=2"), Params::Exact(4 * 20 * 30 + 160 + 4 * 20 * 40 + 160));
        assert_eq!(p("ReLU", "inplace=True"), Params::Exact(0));
        assert_eq!(p("MyGate", ""), Params::Unknown);
        assert_eq!(p("Linear", "in_features=?, out_features=3"), Params::Unknown);
    }

    #[test]
    fn hints_read_like_the_layer() {
        assert_eq!(
            shape_hint("Linear", "in_features=768, out_features=3072, bias=True").unwrap(),
            "Linear(768→3072)"
        );
        assert_eq!(
            shape_hint("Conv2d", "3, 64, kernel_size=(7, 7), stride=(2, 2), padding=(3, 3), bias=False")
                .unwrap(),
            "Conv2d(3→64, 7×7, /2)"
        );
        assert_eq!(shape_hint("Embedding", "50257, 768").unwrap(), "Embedding(50257×768)");
        assert_eq!(shape_hint("LayerNorm", "(768,), eps=1e-05").unwrap(), "LayerNorm(768)");
        assert_eq!(shape_hint("Dropout", "p=0.1, inplace=False").unwrap(), "Dropout(0.1)");
        assert_eq!(shape_hint("GPT2Block", ""), None);
    }

    #[test]
    fn display_says_what_is_known() {
        assert_eq!(Params::Exact(11_689_512).to_string(), "11.7M");
        assert_eq!(Params::AtLeast(1200).to_string(), "≥1.20K");
        assert_eq!(Params::Unknown.to_string(), "?");
    }
}
