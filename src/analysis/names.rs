//! Metric roles by name: which series is a training loss, an eval loss, a gradient norm, a
//! learning rate, an accuracy, a throughput or step time, a dead-unit fraction. The flags pick
//! their detectors from the role; the UI uses [`pair_of`] to draw a train metric and its
//! validation counterpart in one chart.
//!
//! Names are matched on tokens: the lower-cased name split at `/`, `.`, `_`, `-` and spaces, so
//! `value_loss` is not a validation metric (`value` is not `val`) and `bbox/AP-date` has no
//! `date` clock in it.

/// What a series measures, as far as its name tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// A training loss: `loss`, `train/loss`, `train_loss`, `total_loss`, `loss_cls`, ...
    TrainLoss,
    /// A validation, eval or test loss: `val_loss`, `eval/loss`, `validation/main/loss`, ...
    EvalLoss,
    /// The global gradient norm: `grad_norm`, `gradient_norm`, `grad/norm`, ...
    GradNorm,
    /// One layer's gradient norm: `grad_norm/layer0`, `gradients/fc.0.weight`, ...
    LayerGradNorm,
    /// The learning rate: `lr`, `learning_rate`, `train/learning_rate`, `cur_lr`, `lr-Adam`, ...
    LearningRate,
    /// Higher is better: accuracy, mAP, IoU, F1, top-1, ...
    Accuracy,
    /// Work per second: `tokens_per_s`, `samples_per_second`, `fps`, `it/s`, ...
    Throughput,
    /// Seconds per iteration: `time` (detectron2, mmcv), `step_time`, `iter_time`, ...
    StepTime,
    /// Fraction of dead or zero units: `dead_frac`, `zero_frac`, `dead_relu`, ...
    DeadFraction,
    /// The dynamic loss scale of mixed-precision training: `loss_scale`, `grad_scale`, `scale`,
    /// `loss_scaler/scale`, DeepSpeed's `cur_scale`. Not a loss.
    LossScale,
    /// Lower is better, a task metric rather than a loss: an error rate (`class_error`,
    /// `top1_err`, `wer`, `cer`).
    ErrorRate,
    Other,
}

/// Tokens that mark a metric as computed on held-out data.
const EVAL_TOKENS: &[&str] = &["val", "valid", "validation", "eval", "evaluation", "test", "dev"];
/// Tokens of reinforcement-learning losses, which are not supervised losses.
const RL_TOKENS: &[&str] = &["actor", "critic", "policy", "value", "vf", "qf", "q", "entropy", "alpha", "pg"];
/// Tokens that mark a metric as computed on training data.
const TRAIN_TOKENS: &[&str] = &["train", "training"];
/// Tokens that make a name with `loss` in it something other than a loss: a loss scale, a loss
/// term's weight or coefficient (`loss_scale`, `loss_weight`, `loss_scaler/...`).
const NOT_A_LOSS_TOKENS: &[&str] = &[
    "scale",
    "scaler",
    "scaling",
    "weight",
    "weights",
    "coef",
    "coeff",
    "coefficient",
    "factor",
    "multiplier",
    "lambda",
];
/// Tokens of error rates (lower is better, a task metric): `class_error`, `top1_err`, `wer`.
const ERROR_TOKENS: &[&str] = &["error", "err", "wer", "cer", "ter"];

/// The lower-cased tokens of a name.
pub fn tokens(name: &str) -> Vec<String> {
    name.to_lowercase()
        .split(['/', '.', '_', '-', ' ', ':'])
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// True when the name marks held-out data (`val_loss`, `eval/accuracy`, `test_loss`).
pub fn is_eval(name: &str) -> bool {
    tokens(name).iter().any(|t| EVAL_TOKENS.contains(&t.as_str()))
}

fn last_segment(lower: &str) -> &str {
    lower.rsplit('/').next().unwrap_or(lower)
}

/// The role of a series called `name`.
pub fn role(name: &str) -> Role {
    let lower = name.to_lowercase();
    let toks = tokens(name);
    let has = |t: &str| toks.iter().any(|x| x == t);
    let last = last_segment(&lower);

    if is_grad_norm(&lower, &toks) {
        return if is_global_grad_norm(&lower, &toks) { Role::GradNorm } else { Role::LayerGradNorm };
    }
    if matches!(last, "lr" | "learning_rate" | "learningrate" | "cur_lr" | "base_lr")
        || last.starts_with("lr-")
        || last.starts_with("lr_")
        || lower.starts_with("lr-")
        || (has("learning") && has("rate"))
    {
        return Role::LearningRate;
    }
    if is_loss_scale(&lower, &toks) {
        return Role::LossScale;
    }
    if has("dead")
        || lower.contains("zero_frac")
        || lower.contains("zero_fraction")
        || lower.contains("frac_zero")
    {
        return Role::DeadFraction;
    }
    if toks.iter().any(|t| t == "loss" || t.ends_with("loss") || t.starts_with("loss")) {
        // A loss term's weight or coefficient is a setting, not a loss.
        if toks.iter().any(|t| NOT_A_LOSS_TOKENS.contains(&t.as_str())) {
            return Role::Other;
        }
        // Reinforcement-learning losses (critic, value, policy, entropy) grow with the returns
        // or go negative by design: not supervised losses, so no spike/divergence rules.
        if toks.iter().any(|t| RL_TOKENS.contains(&t.as_str())) {
            return Role::Other;
        }
        return if is_eval(name) { Role::EvalLoss } else { Role::TrainLoss };
    }
    if is_throughput(&lower, &toks) {
        return Role::Throughput;
    }
    if matches!(last, "time" | "step_time" | "iter_time" | "batch_time" | "time_per_step" | "time_per_iter")
        || last == "time_this_iter_s"
    {
        return Role::StepTime;
    }
    // DETR's `cardinality_error` counts boxes, not mistakes.
    if toks.iter().any(|t| ERROR_TOKENS.contains(&t.as_str())) && !has("cardinality") {
        return Role::ErrorRate;
    }
    const HIGHER: &[&str] = &[
        "acc",
        "accuracy",
        "top1",
        "top5",
        "map",
        "ap",
        "ap50",
        "ap75",
        "aps",
        "apm",
        "apl",
        "ar",
        "ar1",
        "ar10",
        "ar100",
        "ar50",
        "ar75",
        "ars",
        "arm",
        "arl",
        "miou",
        "iou",
        "f1",
        "auc",
        "pck",
        "bleu",
        "rouge",
        "rouge1",
        "rouge2",
        "rougel",
        "meteor",
        "dice",
        "recall",
        "precision",
        "ndcg",
    ];
    if toks.iter().any(|t| HIGHER.contains(&t.as_str()) || t.starts_with("acc")) {
        return Role::Accuracy;
    }
    Role::Other
}

/// The loss scale of mixed-precision training (`torch.cuda.amp.GradScaler`, DeepSpeed, apex,
/// fairseq): `loss_scale`, `grad_scale`, `scale` alone, `loss_scaler/...`, `amp/scale`,
/// `cur_scale`, `scaler/scale`.
fn is_loss_scale(lower: &str, toks: &[String]) -> bool {
    let has = |t: &str| toks.iter().any(|x| x == t);
    let Some(last) = toks.last().map(String::as_str) else { return false };
    if !matches!(last, "scale" | "lossscale" | "loss_scale") {
        return false;
    }
    let rest: Vec<&str> = toks.iter().map(String::as_str).filter(|t| !TRAIN_TOKENS.contains(t)).collect();
    matches!(rest.as_slice(), ["scale"] | ["cur", "scale"])
        || ["loss", "grad", "amp", "fp16", "scaler", "lossscale"].iter().any(|t| has(t))
        || lower.ends_with("loss_scale")
}

/// True when a task metric's name says it is measured on held-out data: marked (`val_acc`,
/// `test_class_error`), or a metric only evaluations compute (`bbox/AP`, `mIoU`, `bleu`, `wer`);
/// a bare `acc` or `error` is a training one.
pub fn is_held_out(name: &str) -> bool {
    let toks = tokens(name);
    if toks.iter().any(|t| TRAIN_TOKENS.contains(&t.as_str())) {
        return false;
    }
    is_eval(name)
        || !toks
            .iter()
            .any(|t| t.starts_with("acc") || t == "err" || t == "error" || t == "top1" || t == "top5")
}

/// True for a task metric: higher is better (accuracy, AP, mIoU, BLEU) or an error rate. What the
/// overfitting and "not learning" rules consult besides the losses.
pub fn is_task_metric(role: Role) -> bool {
    matches!(role, Role::Accuracy | Role::ErrorRate)
}

/// How much a task metric is the one a paper would quote, lowest first: 0 for a headline score
/// (`AP`, `mAP`, `accuracy`, `top1`, `mIoU`, `F1`, `BLEU`), 1 for another higher-is-better one
/// (`AP50`, `AR100`, `top5`), 2 for the rest (error rates). Ties among task metrics go to the
/// lower rank, so DETR's overfitting is judged on `test_coco_eval_bbox/AP`, not `class_error`.
pub fn headline_rank(name: &str) -> u8 {
    const HEADLINE: &[&str] =
        &["ap", "map", "acc", "accuracy", "top1", "miou", "f1", "bleu", "rougel", "auc", "dice"];
    let toks = tokens(name);
    match role(name) {
        Role::Accuracy if toks.last().is_some_and(|t| HEADLINE.contains(&t.as_str())) => 0,
        Role::Accuracy => 1,
        _ => 2,
    }
}

fn is_grad_norm(lower: &str, toks: &[String]) -> bool {
    let has = |t: &str| toks.iter().any(|x| x == t);
    lower.starts_with("grad_norm")
        || lower.starts_with("gradient_norm")
        || lower.starts_with("gradnorm")
        || lower.starts_with("gradients/")
        || lower.starts_with("grads/")
        || lower.starts_with("grad/")
        || ((has("grad") || has("gradient") || has("grads")) && has("norm"))
        || lower.ends_with("grad_norm")
        || has("gradnorm")
}

fn is_global_grad_norm(lower: &str, toks: &[String]) -> bool {
    // Strip a train prefix, then the rest must be just the norm (optionally "total"/"global").
    let rest: Vec<&str> = toks
        .iter()
        .map(String::as_str)
        .filter(|t| !TRAIN_TOKENS.contains(t) && !matches!(*t, "total" | "global" | "l2" | "optimizer"))
        .collect();
    matches!(rest.as_slice(), ["grad", "norm"] | ["gradient", "norm"] | ["grads", "norm"] | ["gradnorm"])
        && !lower.starts_with("gradients/")
}

fn is_throughput(lower: &str, toks: &[String]) -> bool {
    let has = |t: &str| toks.iter().any(|x| x == t);
    let per_second =
        toks.windows(2).any(|w| w[0] == "per" && matches!(w[1].as_str(), "s" | "sec" | "second"));
    per_second
        || lower.ends_with("it/s")
        || lower.ends_with("/s")
        || has("fps")
        || has("throughput")
        || has("tps")
}

/// True for metrics where a larger value is better (accuracy, throughput); false for losses and
/// step times; `None` when the name does not say.
pub fn higher_is_better(name: &str) -> Option<bool> {
    match role(name) {
        Role::Accuracy | Role::Throughput => Some(true),
        Role::TrainLoss | Role::EvalLoss | Role::StepTime | Role::DeadFraction | Role::ErrorRate => {
            Some(false)
        }
        _ => None,
    }
}

/// The name with its split marker removed, e.g. `val_loss` -> `loss`, `validation/main/loss` ->
/// `main_loss`, `train/loss` -> `loss`. Empty when nothing else is left.
fn pair_key(name: &str) -> String {
    tokens(name)
        .into_iter()
        .filter(|t| !EVAL_TOKENS.contains(&t.as_str()) && !TRAIN_TOKENS.contains(&t.as_str()))
        .collect::<Vec<_>>()
        .join("_")
}

/// The counterpart of `name` on the other split among `all`: the validation metric of a
/// training metric or the reverse (`loss` <-> `val_loss`, `train/loss` <-> `eval/loss`,
/// `train_loss` <-> `test_loss`, `main/loss` <-> `validation/main/loss`). When several match,
/// the one written with the same separator as `name` wins, then the first in `all`.
pub fn pair_of<'a>(name: &str, all: &[&'a str]) -> Option<&'a str> {
    let key = pair_key(name);
    if key.is_empty() {
        return None;
    }
    let eval = is_eval(name);
    let sep = |s: &str| s.chars().find(|c| matches!(c, '/' | '_' | '.' | '-'));
    // Rank 0: both carry a marker the same way (`train/loss` and `eval/loss`); rank 1: one is
    // the other with its marker cut off (`val_loss` and `loss`); rank 2: same separator.
    let rank = |other: &str| {
        let (a, b) = (strip_split(name), strip_split(other));
        if a != name && b != other && a == b && sep(other) == sep(name) {
            0
        } else if b == name || a == other {
            1
        } else if sep(other) == sep(name) {
            2
        } else {
            3
        }
    };
    all.iter()
        .copied()
        .filter(|&o| o != name && is_eval(o) != eval && pair_key(o) == key)
        .min_by_key(|&o| rank(o))
}

/// `name` without a leading or trailing split marker (`val_loss` -> `loss`, `loss/eval` ->
/// `loss`); `name` itself when it has none.
fn strip_split(name: &str) -> &str {
    let lower = name.to_lowercase();
    for m in EVAL_TOKENS.iter().chain(TRAIN_TOKENS) {
        for sep in ['/', '_', '.', '-'] {
            let pre = format!("{m}{sep}");
            let post = format!("{sep}{m}");
            // Markers are ASCII, so byte offsets in `lower` are offsets in `name`.
            if lower.starts_with(&pre) && name.is_char_boundary(pre.len()) {
                return &name[pre.len()..];
            }
            if lower.ends_with(&post) && name.is_char_boundary(name.len() - post.len()) {
                return &name[..name.len() - post.len()];
            }
        }
    }
    name
}

/// The layer position in a per-layer gradient name: the first number in it (`layer3` -> 3,
/// `fc.0.weight` -> 0), or `None`.
pub fn layer_index(name: &str) -> Option<u64> {
    let start = name.find(|c: char| c.is_ascii_digit())?;
    let digits: String = name[start..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_of_names_frameworks_write() {
        for n in
            ["loss", "train/loss", "train_loss", "total_loss", "loss_cls", "decode.loss_ce", "loss_mask_3"]
        {
            assert_eq!(role(n), Role::TrainLoss, "{n}");
        }
        for n in ["val_loss", "eval_loss", "eval/loss", "test_loss", "validation/main/loss", "val/loss"] {
            assert_eq!(role(n), Role::EvalLoss, "{n}");
        }
        for n in ["grad_norm", "gradient_norm", "grad/norm", "train/grad_norm", "total_grad_norm"] {
            assert_eq!(role(n), Role::GradNorm, "{n}");
        }
        for n in ["grad_norm/layer0", "gradients/fc.0.weight", "grad_norm/encoder.layers.3"] {
            assert_eq!(role(n), Role::LayerGradNorm, "{n}");
        }
        for n in ["lr", "learning_rate", "train/learning_rate", "cur_lr", "info/cur_lr", "lr-Adam"] {
            assert_eq!(role(n), Role::LearningRate, "{n}");
        }
        for n in ["tokens_per_s", "samples_per_second", "fps", "time/fps", "it/s", "train_samples_per_second"]
        {
            assert_eq!(role(n), Role::Throughput, "{n}");
        }
        for n in ["time", "step_time", "time_this_iter_s", "time_per_step"] {
            assert_eq!(role(n), Role::StepTime, "{n}");
        }
        for n in ["dead_frac", "zero_frac", "dead_relu"] {
            assert_eq!(role(n), Role::DeadFraction, "{n}");
        }
        for n in ["val_acc", "accuracy/top1", "bbox/AP", "mIoU", "acc"] {
            assert_eq!(role(n), Role::Accuracy, "{n}");
        }
        for n in [
            "data_time",
            "eta_seconds",
            "memory",
            "time/time_elapsed",
            "value_estimate",
            "train/critic_loss",
            "Value Loss",
            "policy_loss",
        ] {
            assert_eq!(role(n), Role::Other, "{n}");
        }
        for n in [
            "loss_scale",
            "grad_scale",
            "scale",
            "loss_scaler/scale",
            "amp/loss_scale",
            "cur_scale",
            "train/loss_scale",
        ] {
            assert_eq!(role(n), Role::LossScale, "{n}");
        }
        for n in [
            "loss_weight",
            "loss_cls_weight",
            "aux_loss_coef",
            "loss_scaler/growth_tracker",
            "lr_scale_factor",
        ] {
            assert_ne!(role(n), Role::TrainLoss, "{n}");
            assert_ne!(role(n), Role::EvalLoss, "{n}");
        }
        for n in ["test_class_error", "val/top1_err", "eval_wer", "eval_cer"] {
            assert_eq!(role(n), Role::ErrorRate, "{n}");
        }
        for n in ["eval_bleu", "val/rouge1", "test_mIoU"] {
            assert_eq!(role(n), Role::Accuracy, "{n}");
        }
        assert!(!is_eval("value_loss"));
        assert_eq!(higher_is_better("val_acc"), Some(true));
        assert_eq!(higher_is_better("val_loss"), Some(false));
    }

    #[test]
    fn train_and_eval_counterparts_pair_up() {
        let all = ["loss", "val_loss", "train/loss", "eval/loss", "train_loss", "test_loss", "lr"];
        assert_eq!(pair_of("loss", &all), Some("val_loss"));
        assert_eq!(pair_of("val_loss", &all), Some("train_loss"));
        assert_eq!(pair_of("val_loss", &["loss", "val_loss"]), Some("loss"));
        assert_eq!(pair_of("test_loss", &all), Some("train_loss"));
        assert_eq!(pair_of("train/loss", &all), Some("eval/loss"));
        assert_eq!(pair_of("eval/loss", &all), Some("train/loss"));
        assert_eq!(pair_of("lr", &all), None);
        let chainer = ["main/loss", "validation/main/loss", "main/accuracy", "validation/main/accuracy"];
        assert_eq!(pair_of("main/loss", &chainer), Some("validation/main/loss"));
        assert_eq!(pair_of("validation/main/accuracy", &chainer), Some("main/accuracy"));
        assert_eq!(pair_of("train_loss", &["train_loss", "test_loss"]), Some("test_loss"));
        assert_eq!(pair_of("acc", &["acc", "val_acc", "loss"]), Some("val_acc"));
    }

    #[test]
    fn cocos_summary_names_are_task_metrics_and_ap_is_the_headline() {
        for n in ["AP", "AP50", "APs", "AR1", "AR100", "ARl"] {
            let name = format!("test_coco_eval_bbox/{n}");
            assert_eq!(role(&name), Role::Accuracy, "{name}");
            assert!(is_held_out(&name), "{name}");
        }
        assert_eq!(headline_rank("test_coco_eval_bbox/AP"), 0);
        assert_eq!(headline_rank("test_coco_eval_bbox/AP50"), 1);
        assert_eq!(headline_rank("test_class_error"), 2);
    }

    #[test]
    fn layer_positions() {
        assert_eq!(layer_index("grad_norm/layer12"), Some(12));
        assert_eq!(layer_index("gradients/fc.0.weight"), Some(0));
        assert_eq!(layer_index("grad_norm/head"), None);
    }
}
