//! A stand-in for train/eval name pairing, until `crate::analysis::names` lands.
// TODO(lead): switch to crate::analysis::names (a `pair_of`-style function) after merge.

const EVAL_WORDS: [&str; 5] = ["val", "eval", "valid", "validation", "test"];

/// Names a train series could have, given an evaluation series' name: `val_loss` -> `loss` or
/// `train_loss`; `eval/loss` -> `train/loss` or `loss`. Empty when `name` is not an eval name.
pub fn train_names_for(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for w in EVAL_WORDS {
        for sep in ['_', '/', '-'] {
            let prefix = format!("{w}{sep}");
            if let Some(base) = name.strip_prefix(&prefix) {
                out.push(base.to_owned());
                out.push(format!("train{sep}{base}"));
            }
            let infix = format!("/{w}{sep}");
            if let Some(pos) = name.find(&infix) {
                let (head, tail) = (&name[..pos], &name[pos + infix.len()..]);
                out.push(format!("{head}/{tail}"));
                out.push(format!("{head}/train{sep}{tail}"));
            }
            let suffix = format!("{sep}{w}");
            if let Some(base) = name.strip_suffix(&suffix) {
                out.push(base.to_owned());
                out.push(format!("{base}{sep}train"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eval_names_pair_with_train_names() {
        assert!(train_names_for("val_loss").contains(&"loss".to_owned()));
        assert!(train_names_for("eval/loss").contains(&"train/loss".to_owned()));
        assert!(train_names_for("loss").is_empty());
    }
}
