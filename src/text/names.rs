//! The names of tmon's enums (flag kinds, severities, scenarios, formats) are derived, never
//! written by hand: strum for the `&'static str` and `Display`, clap's `ValueEnum` for the command
//! line and for parsing. This reads a name back with a message that lists the known ones.

use clap::ValueEnum;

/// The variant of `T` called `s` (exactly, as `Display` writes it); the error names `what` and
/// every known name.
pub fn parse_name<T: ValueEnum>(what: &str, s: &str) -> Result<T, String> {
    T::from_str(s, false).map_err(|_| {
        let names: Vec<String> = T::value_variants()
            .iter()
            .filter_map(ValueEnum::to_possible_value)
            .map(|p| p.get_name().to_owned())
            .collect();
        format!("unknown {what} '{s}' (expected one of: {})", names.join(", "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{FlagKind, Severity};
    use crate::harness::Scenario;
    use crate::ingest::Format;

    /// The JSON schema's strings, which scripts match: they must never change.
    #[test]
    fn the_schema_names_stay_as_they_are() {
        let kinds: Vec<&str> = FlagKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "nonfinite",
                "spike",
                "divergence",
                "plateau",
                "overfitting",
                "stall",
                "restart",
                "dead_units",
                "vanishing_gradient",
                "exploding_gradient",
                "throughput_drop",
                "lr_anomaly",
                "writers",
                "crash",
                "exploding_weights",
                "run_outlier",
                "run_stopped"
            ]
        );
        let sev: Vec<&str> = <Severity as strum::VariantArray>::VARIANTS.iter().map(|s| s.as_str()).collect();
        assert_eq!(sev, ["info", "warning", "critical"]);
        let formats = [
            Format::Unknown,
            Format::JsonLines,
            Format::TrainerState,
            Format::JsonArray,
            Format::JsonObject,
            Format::TensorBoard,
            Format::Csv,
            Format::Wandb,
            Format::Mlflow,
        ];
        let names: Vec<&str> = formats.iter().map(|f| f.as_str()).collect();
        assert_eq!(
            names,
            [
                "unknown",
                "jsonl",
                "trainer_state",
                "json_array",
                "json_object",
                "tfevents",
                "csv",
                "wandb",
                "mlflow"
            ]
        );
        let scenarios: Vec<&str> = Scenario::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            scenarios,
            [
                "healthy",
                "diverging",
                "overfitting",
                "dead-relu",
                "vanishing",
                "stall",
                "restart",
                "slowdown",
                "small-lr",
                "slowdown-20",
                "slowdown-40",
                "pause",
                "checkpoints",
                "crash",
                "mixed-precision",
                "detection"
            ]
        );
    }

    /// Every name agrees across strum, serde, clap and `FromStr`.
    #[test]
    fn derived_names_agree_and_parse_back() {
        fn check<T>(all: &[T])
        where
            T: ValueEnum
                + Copy
                + PartialEq
                + std::fmt::Debug
                + std::fmt::Display
                + std::str::FromStr<Err = String>,
        {
            for v in all {
                let name = v.to_string();
                assert_eq!(v.to_possible_value().unwrap().get_name(), name);
                assert_eq!(name.parse::<T>(), Ok(*v));
            }
        }
        check(FlagKind::ALL);
        check(<Severity as strum::VariantArray>::VARIANTS);
        check(Scenario::ALL);
        for k in FlagKind::ALL {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        for s in <Severity as strum::VariantArray>::VARIANTS {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        let err = "nope".parse::<Severity>().unwrap_err();
        assert_eq!(err, "unknown severity 'nope' (expected one of: info, warning, critical)");
    }
}
