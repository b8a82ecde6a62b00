//! The `e` key: the selected chart, as the view shows it (its series, smoothing, x axis, window,
//! y scaling and flag markers), computed by the chart engine for an image and handed to the loop,
//! which writes it to an SVG and a PNG on a thread of its own (`crate::export::job`); the footer
//! says what was written, or why nothing was.

use super::App;
use crate::export::{figure, job, Figure, Job, Panel, Source};
use crate::text::sanitize;
use std::path::PathBuf;

/// A line for the footer, shown until the next key.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub text: String,
    /// Something went wrong (drawn as a warning).
    pub error: bool,
}

impl App {
    /// Prepares the export of the selected chart for the loop ([`App::take_export`]).
    pub(super) fn export_chart(&mut self) -> bool {
        let made = (|| {
            let group = self.selected_group()?;
            let slot = self.slot()?;
            let run = slot.run();
            let data = self.chart_source()?;
            let req = self.chart_request(&group.members, 0);
            let (w, h) = figure::default_size(1);
            // The run as its file and folder name: the path as given may be long.
            let parts: Vec<_> = run.path.iter().map(|c| c.to_string_lossy()).collect();
            let name = parts[parts.len().saturating_sub(2)..].join("/");
            let source = Source { data, members: &group.members, run: &name };
            let panel = Panel::build(&[source], &req, (w, h), &mut self.cache.borrow_mut());
            let first = group.members[0];
            let step = crate::export::series::Points::new(&run.store, first, panel.x_axis)
                .last_step_at(panel.x_bounds[1]);
            let stem = job::file_stem(run.store.name(first), step);
            Some(Job { figure: Figure { width: w, height: h, cols: 1, panels: vec![panel] }, stem })
        })();
        self.message = Some(match &made {
            Some(job) => Message { text: format!("writing {}.svg and .png…", job.stem), error: false },
            None => Message { text: "no chart to export yet".into(), error: true },
        });
        self.export = made;
        true
    }

    /// The export the `e` key asked for, if any: the loop hands it to a thread.
    pub fn take_export(&mut self) -> Option<Job> {
        self.export.take()
    }

    /// An export is done: the footer says what it wrote, or why it wrote nothing.
    pub(super) fn exported(&mut self, result: Result<Vec<PathBuf>, String>) {
        self.message = Some(match result {
            Ok(paths) => {
                let names: Vec<String> = paths
                    .iter()
                    .map(|p| {
                        p.file_name()
                            .map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned())
                    })
                    .collect();
                Message { text: format!("wrote {}", sanitize(&names.join(" and "))), error: false }
            }
            Err(e) => Message { text: format!("export failed: {}", sanitize(&e)), error: true },
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_app_with_no_chart_says_so() {
        let mut app = App::from_runs(Vec::new(), Default::default());
        assert!(app.act(super::super::Action::Export));
        assert!(app.take_export().is_none());
        assert_eq!(app.message.as_ref().map(|m| m.error), Some(true));
    }
}
