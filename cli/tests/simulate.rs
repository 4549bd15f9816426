//! `partnerkit simulate`, `compare` and `sweep`: readable tables, `--json` equal to the
//! library's results, errors as JSON on stderr with exit 2, no progress bar off a terminal.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_partnerkit"))
}

/// A scratch directory with the given files, removed on drop.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str, files: &[(&str, &Value)]) -> Dir {
        let dir = std::env::temp_dir().join(format!("pk-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (f, v) in files {
            std::fs::write(dir.join(f), v.to_string()).unwrap();
        }
        Dir(dir)
    }

    fn path(&self, f: &str) -> String {
        self.0.join(f).to_string_lossy().into_owned()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "stderr off a terminal: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn scenario() -> Value {
    json!({
        "schema": "partnerkit/scenario@1", "id": "cli", "currency": "USD",
        "start": "2026-01-01", "months": 6, "runs": 12, "seed": 4, "margin": "0.5",
        "populations": [
            {"segment": "affiliate", "partners": 20,
             "touches_per_month": {"fixed": "25"}, "conversion_rate": {"fixed": "0.04"},
             "subscription": {"price": {"fixed": "30"}, "monthly_churn": {"fixed": "0.1"}}},
            {"segment": "agency", "partners": 5,
             "touches_per_month": {"fixed": "10"}, "conversion_rate": {"fixed": "0.1"},
             "order_value": {"lognormal": {"median": "200", "sigma": "0.5"}},
             "refund_rate": {"fixed": "0.1"}}
        ]
    })
}

fn plan(id: &str, percent: &str) -> Value {
    json!({"schema": "partnerkit/plan@1", "id": id, "currency": "USD",
           "rules": [{"id": "r", "reward": {"percent": percent}}]})
}

fn tiered() -> Value {
    json!({"schema": "partnerkit/plan@1", "id": "tiered", "currency": "USD",
           "rules": [{"id": "r", "reward": {"percent_by_tier": {"bronze": "10", "gold": "25"}}}],
           "tiers": {"levels": [{"id": "bronze"},
               {"id": "gold", "requires": {"any": [{"metric": "referrals", "at_least": "2"}]}}]}})
}

#[test]
fn simulate_prints_tables_and_json() {
    let (sc, a, b) = (scenario(), plan("ten", "10"), tiered());
    let d = Dir::new("sim", &[("s.json", &sc), ("a.json", &a), ("b.json", &b)]);
    let args = [
        "simulate",
        &d.path("s.json"),
        "--plan",
        &d.path("a.json"),
        "--plan",
        &d.path("b.json"),
    ];
    let text = ok(&bin().args(args).output().unwrap());
    assert!(
        text.starts_with(
            "Scenario cli: 25 partners, 6 months from 2026-01-01, 12 runs (seed 4), USD"
        ),
        "{text}"
    );
    for needle in [
        "cost p50",
        "ten ",
        "tiered",
        "fast",
        "Cost per segment",
        "affiliate",
        "agency",
        "Tier mix at the horizon's end, tiered",
        "bronze",
        "gold",
    ] {
        assert!(text.contains(needle), "{needle} missing:\n{text}");
    }
    // --json is the library's result, byte for byte, and the same with one thread.
    let json_out = ok(&bin().args(args).arg("--json").output().unwrap());
    let one = ok(&bin()
        .args(args)
        .args(["--json", "--threads", "1"])
        .output()
        .unwrap());
    assert_eq!(json_out, one);
    let sim = partnerkit::simulate::simulate(
        &partnerkit::simulate::Scenario::from_json(&sc.to_string()).unwrap(),
        &[
            partnerkit::Plan::from_json(&a.to_string()).unwrap(),
            partnerkit::Plan::from_json(&b.to_string()).unwrap(),
        ],
        &Default::default(),
    )
    .unwrap();
    assert_eq!(json_out, sim.to_json() + "\n");
    // Overrides of runs and seed; --engine gives the same numbers by the other path.
    let v: Value = serde_json::from_str(&ok(&bin()
        .args(args)
        .args(["--json", "--runs", "3", "--seed", "9"])
        .output()
        .unwrap()))
    .unwrap();
    assert_eq!((v["runs"].as_u64(), v["seed"].as_u64()), (Some(3), Some(9)));
    let e: Value = serde_json::from_str(&ok(&bin()
        .args(args)
        .args(["--json", "--runs", "3", "--seed", "9", "--engine"])
        .output()
        .unwrap()))
    .unwrap();
    assert_eq!(e["plans"][1]["path"], "engine");
    assert_eq!(e["plans"][1]["runs"], v["plans"][1]["runs"]);
}

#[test]
fn compare_prints_tables_and_json() {
    let vector: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../tests/vectors/tiers/bronze_silver_gold.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let input = &vector["input"];
    let a = input["plan"].clone();
    let b = plan(a["id"].as_str().unwrap(), "12");
    let d = Dir::new("cmp", &[("i.json", input), ("a.json", &a), ("b.json", &b)]);
    let args = [
        "compare",
        &d.path("i.json"),
        "--plan",
        &d.path("a.json"),
        "--plan",
        &d.path("b.json"),
    ];
    let text = ok(&bin().args(args).output().unwrap());
    for needle in [
        "Backtest as of",
        "winners",
        "Cost per segment",
        "Cost per tier held at as_of",
    ] {
        assert!(text.contains(needle), "{needle} missing:\n{text}");
    }
    let out = ok(&bin().args(args).arg("--json").output().unwrap());
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["schema"], "partnerkit/comparison@1");
    // Each plan's cost is its own evaluation's program commission.
    for (i, p) in [&a, &b].iter().enumerate() {
        let mut doc = input.clone();
        doc["plan"] = (*p).clone();
        let r = partnerkit::evaluate_json(&doc.to_string()).unwrap();
        assert_eq!(v["plans"][i]["cost"], r.program.commission.to_string());
    }
}

#[test]
fn sweep_tabulates_simulations_and_backtests() {
    let (sc, base) = (scenario(), plan("base", "10"));
    let d = Dir::new("sweep", &[("s.json", &sc), ("base.json", &base)]);
    let out = ok(&bin()
        .args([
            "sweep",
            &d.path("base.json"),
            "--vary",
            "/rules/0/reward/percent=10..30:10",
            "--scenario",
            &d.path("s.json"),
            "--runs",
            "4",
        ])
        .output()
        .unwrap());
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(
        lines[0].starts_with("/rules/0/reward/percent") && lines[0].contains("cost p50"),
        "{out}"
    );
    assert!(
        lines[1].starts_with("10 ") && lines[3].starts_with("30 "),
        "{out}"
    );
    let v: Value = serde_json::from_str(&ok(&bin()
        .args([
            "sweep",
            &d.path("base.json"),
            "--vary",
            "/rules/0/reward/percent=10,20",
            "--vary",
            "/lifecycle/hold_days=0,30",
            "--scenario",
            &d.path("s.json"),
            "--runs",
            "4",
            "--json",
        ])
        .output()
        .unwrap()))
    .unwrap();
    assert_eq!(v["schema"], "partnerkit/sweep@1");
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 4);
    // The last axis varies fastest; a number stays a number where the plan has one.
    assert_eq!(rows[1]["/rules/0/reward/percent"], "10");
    assert_eq!(rows[1]["/lifecycle/hold_days"], 30);
    assert!(rows[0]["cost_p50"].is_string());
}

#[test]
fn errors_are_json_on_stderr_with_exit_2() {
    let mut bad = scenario();
    bad["runs"] = json!(0);
    let d = Dir::new("err", &[("s.json", &bad), ("a.json", &plan("a", "10"))]);
    let out = bin()
        .args(["simulate", &d.path("s.json"), "--plan", &d.path("a.json")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let e: Value = serde_json::from_str(String::from_utf8_lossy(&out.stderr).trim()).unwrap();
    assert_eq!(
        (e["code"].as_str(), e["path"].as_str()),
        (Some("InvalidValue"), Some("scenario.runs"))
    );
    let out = bin()
        .args([
            "sweep",
            &d.path("a.json"),
            "--vary",
            "/rules/0/reward/percent=10",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let e: Value = serde_json::from_str(String::from_utf8_lossy(&out.stderr).trim()).unwrap();
    assert_eq!(e["code"], "MissingField");
    let out = bin().args(["schema", "--scenario"]).output().unwrap();
    let shipped = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/scenario.schema.json"),
    )
    .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), shipped);
}
