//! Instruction counts from valgrind's callgrind, for plans that count
//! instructions on a simulated CPU (`instructions: callgrind`).
//!
//! Each process callgrind ran prints its total on stderr when it exits,
//! `==<pid>== Collected : <n>`; a run's count is the sum over its processes.

/// The run's instructions: the sum of every `Collected` line, or `None`
/// where callgrind printed none (it did not run, or the program was killed
/// before callgrind could report).
pub fn instructions(stderr: &str) -> Option<u64> {
    let counts: Vec<u64> = stderr
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("==")?;
            let (pid, rest) = rest.split_once("== ")?;
            if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            rest.strip_prefix("Collected : ")?.trim().parse().ok()
        })
        .collect();
    (!counts.is_empty()).then(|| counts.iter().sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_collected_lines_of_every_process_are_summed() {
        let one = "==3495== Callgrind, a call-graph generating cache profiler\n==3495== \n\
                   EDGEBENCH_RESULT {\"kernel_ns\":1,\"checksum\":\"a3585b7000fc1cf6\"}\n\
                   ==3495== Events    : Ir\n==3495== Collected : 1500083\n==3495== \n==3495== I   refs:      1,500,083\n";
        assert_eq!(instructions(one), Some(1_500_083));
        let two = "==10== Collected : 5\n==11== Collected : 7\n";
        assert_eq!(instructions(two), Some(12));
        // The program's own output cannot pass for callgrind's.
        assert_eq!(instructions("Collected : 5\n== == Collected : 5\n==x== Collected : 5\n"), None);
        assert_eq!(instructions(""), None);
    }
}
