//! Progress of a running bench: a bar with an ETA on a terminal, a line per
//! tenth of the runs otherwise (logs, and fleets, whose lines name their
//! target), nothing with `--quiet`. Failed runs are always reported as they
//! happen.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use edgebench_model::rundir::ProgressLine;

pub struct Progress {
    bar: Option<ProgressBar>,
    quiet: bool,
    last_tenth: usize,
    /// The target's name, when several run at once.
    prefix: Option<String>,
}

impl Progress {
    pub fn new(total: usize, done: usize, quiet: bool, prefix: Option<String>) -> Progress {
        let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
        let bar = (!quiet && terminal && prefix.is_none()).then(|| {
            let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{elapsed_precise} [{bar:32}] {pos}/{len} runs, ETA {eta}  {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.set_position(done as u64);
            bar.enable_steady_tick(Duration::from_millis(250));
            bar
        });
        Progress { bar, quiet, last_tenth: done * 10 / total.max(1), prefix }
    }

    pub fn update(&mut self, p: &ProgressLine) {
        let failed = p.status != "ok";
        let line = format!(
            "{}[{}/{}] {}{}: {} ({:.2} ms)",
            self.prefix.as_ref().map(|p| format!("{p}: ")).unwrap_or_default(),
            p.position,
            p.total,
            p.label,
            if p.warmup { " warm-up" } else { "" },
            p.status,
            p.wall_ns as f64 / 1e6
        );
        match &self.bar {
            Some(bar) => {
                bar.set_position(p.position as u64);
                bar.set_message(p.label.clone());
                if failed {
                    bar.println(line);
                }
            }
            None if failed => eprintln!("{line}"),
            None if !self.quiet => {
                let tenth = p.position * 10 / p.total.max(1);
                if tenth > self.last_tenth {
                    self.last_tenth = tenth;
                    eprintln!("{line}");
                }
            }
            None => {}
        }
    }

    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}
