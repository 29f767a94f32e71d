//! `consistency-test floor` end to end on the real PostgreSQL and RabbitMQ:
//! the three hops commit checkouts, and the tally the run checks finds every
//! checkout's writes once and every outbox emptied, on quorum queues (the
//! services' default) and on classic ones.
use std::process::Command;

/// Runs the floor with 1 and 4 clients, a second each, and checks what its
/// report says: checkouts committed, every one final and counted, each
/// written once. Returns the report.
fn a_short_floor_run(name: &str, extra: &[&str]) -> serde_json::Value {
    let prefix = format!("floor_test_{name}_{}", std::process::id());
    let report = std::env::temp_dir().join(format!("{prefix}.json"));

    let status = Command::new(env!("CARGO_BIN_EXE_consistency-test"))
        .args([
            "floor",
            "--concurrency",
            "1,4",
            "--step-secs",
            "1",
            "--scale",
            "100",
        ])
        .args(extra)
        .args(["--database-prefix", &prefix, "--report"])
        .arg(&report)
        .status()
        .expect("the harness runs");

    assert!(status.success(), "the floor failed: {status}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).expect("the report is written")).expect("JSON");
    let checkouts = report["checkouts"].as_u64().expect("a count");
    let steps = report["steps"].as_array().expect("steps");
    let committed: u64 = steps
        .iter()
        .chain([&report["half_peak"]])
        .map(|step| step["committed"].as_u64().expect("a count"))
        .sum();
    assert!(committed > 0, "no checkout committed");
    assert_eq!(
        committed, checkouts,
        "every checkout started was final and counted"
    );
    assert_eq!(report["differences"], serde_json::json!([]));
    assert_eq!(
        report["tally"]["inbox"],
        serde_json::json!([checkouts, checkouts, checkouts])
    );
    assert_eq!(report["tally"]["order_steps"], serde_json::json!(2 * checkouts));
    report
}

#[test]
fn the_floor_commits_checkouts_that_each_wrote_everything_once() {
    let report = a_short_floor_run("quorum", &[]);

    assert_eq!(report["queue_type"], "quorum");
}

#[test]
fn the_floor_on_classic_queues_commits_checkouts_that_each_wrote_everything_once() {
    let report = a_short_floor_run("classic", &["--queue-type", "classic"]);

    assert_eq!(report["queue_type"], "classic");
}
