//! The results file: JSON Lines, one record per run, appended and synced as
//! it goes, so that a harness killed at any moment loses at most the run it
//! was measuring and a restart resumes after the last complete record.

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use edgebench_model::record::{RECORD_SCHEMA, RunRecord};

pub struct ResultsFile {
    path: PathBuf,
    file: File,
    done: BTreeSet<usize>,
}

impl ResultsFile {
    /// Opens (or creates) the results of `plan_id`. A trailing partial line,
    /// left by a kill in the middle of a write, is cut off; complete records
    /// of another plan, or unreadable ones, are an error rather than silently
    /// mixed with this plan's.
    pub fn open(path: &Path, plan_id: &str) -> Result<ResultsFile, String> {
        let ctx = |e: io::Error| format!("{}: {e}", path.display());
        let mut file = OpenOptions::new().create(true).read(true).append(true).open(path).map_err(ctx)?;
        // One writer per results file: a second harness on the same file
        // would interleave records and duplicate runs.
        file.try_lock().map_err(|_| {
            format!("{}: another harness is writing this results file; wait for it or stop it", path.display())
        })?;
        // Bytes first: a write cut short may end inside a UTF-8 character,
        // and only complete lines are read as text.
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(ctx)?;
        let complete = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        if complete < bytes.len() {
            file.set_len(complete as u64).map_err(ctx)?;
            file.seek(SeekFrom::End(0)).map_err(ctx)?;
        }
        let text =
            std::str::from_utf8(&bytes[..complete]).map_err(|e| format!("{}: not UTF-8: {e}", path.display()))?;
        let mut done = BTreeSet::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let record: RunRecord = serde_json::from_str(line)
                .map_err(|e| format!("{}:{}: not a run record: {e}", path.display(), i + 1))?;
            if record.schema != RECORD_SCHEMA {
                return Err(format!(
                    "{}:{}: record schema {} (this harness writes {RECORD_SCHEMA}); use a new results file",
                    path.display(),
                    i + 1,
                    record.schema
                ));
            }
            if record.plan_id != plan_id {
                return Err(format!(
                    "{}:{}: record of plan {} but this plan is {plan_id}; use a new results file",
                    path.display(),
                    i + 1,
                    record.plan_id
                ));
            }
            done.insert(record.run);
        }
        Ok(ResultsFile { path: path.to_path_buf(), file, done })
    }

    pub fn is_done(&self, run: usize) -> bool {
        self.done.contains(&run)
    }

    pub fn done_count(&self) -> usize {
        self.done.len()
    }

    /// Appends one record as a single write and syncs it to disk.
    pub fn append(&mut self, record: &RunRecord) -> Result<(), String> {
        let mut line = serde_json::to_vec(record).map_err(|e| format!("serializing a record: {e}"))?;
        line.push(b'\n');
        self.file
            .write_all(&line)
            .and_then(|()| self.file.sync_data())
            .map_err(|e| format!("{}: {e}", self.path.display()))?;
        self.done.insert(record.run);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use edgebench_model::Dataset;

    use super::*;

    fn record(plan: &str, run: usize) -> RunRecord {
        let mut record = RunRecord::for_test("gemm", Dataset::Mini, "native", "default", run);
        record.plan_id = plan.into();
        record
    }

    #[test]
    fn a_partial_last_line_is_cut_and_complete_records_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("results.jsonl");
        let mut text = String::new();
        for run in 0..3 {
            text.push_str(&serde_json::to_string(&record("p", run)).unwrap());
            text.push('\n');
        }
        let complete = text.len();
        let mut bytes = text.into_bytes();
        // A cut inside a multi-byte character ("…" is three bytes).
        bytes.extend_from_slice(&"{\"stderr_tail\":\"…".as_bytes()[..17]);
        std::fs::write(&path, &bytes).unwrap();

        let mut results = ResultsFile::open(&path, "p").unwrap();
        assert_eq!(results.done_count(), 3);
        assert!(results.is_done(2) && !results.is_done(3));
        assert_eq!(std::fs::metadata(&path).unwrap().len() as usize, complete);

        results.append(&record("p", 3)).unwrap();
        drop(results);
        let reopened = ResultsFile::open(&path, "p").unwrap();
        assert_eq!(reopened.done_count(), 4);
    }

    #[test]
    fn a_second_writer_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("results.jsonl");
        let first = ResultsFile::open(&path, "p").unwrap();
        let err = ResultsFile::open(&path, "p").err().unwrap();
        assert!(err.contains("another harness is writing"), "{err}");
        drop(first);
        assert!(ResultsFile::open(&path, "p").is_ok());
    }

    #[test]
    fn records_of_another_plan_or_garbage_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("results.jsonl");
        std::fs::write(&path, serde_json::to_string(&record("other", 0)).unwrap() + "\n").unwrap();
        let err = ResultsFile::open(&path, "p").err().unwrap();
        assert!(err.contains("record of plan other"), "{err}");

        std::fs::write(&path, "not json\n").unwrap();
        let err = ResultsFile::open(&path, "p").err().unwrap();
        assert!(err.contains(":1: not a run record"), "{err}");
    }
}
