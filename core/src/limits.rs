//! Limits on untrusted input.
//!
//! Plans are written by customers and events arrive from webhooks, so every dimension that
//! drives time or memory has a ceiling. Exceeding one is `LimitExceeded`, naming the limit,
//! its value and where in the document it was exceeded, before any expensive work starts.
//! The defaults are generous for real programs; a host that needs more (a ten-year backfill)
//! or less (a multi-tenant service) passes its own [`Limits`].
//!
//! Text limits (document size, nesting depth, string length) are checked by one pass over
//! the raw bytes before the JSON parser runs, so a hostile document costs a linear scan and
//! nothing else. Count limits (events, partners, rules, …) are checked on the parsed input.

use crate::error::{Error, ErrorCode, Result};
use crate::input::Input;
use crate::plan::{Plan, PlanDoc, RewardKind};

/// Ceilings on the size of inputs. `Limits::default()` is what [`crate::evaluate_json`] uses.
///
/// Hosts of the bindings pass limits as a JSON object naming the fields to change, e.g.
/// `{"max_events": 100000000}` (see [`Limits::from_json`]).
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Limits {
    /// Bytes of a whole input document (default 1 GiB).
    pub max_document_bytes: usize,
    /// Bytes of a plan as written (default 1 MiB).
    pub max_plan_bytes: usize,
    /// Nesting depth of objects and arrays (default 64).
    pub max_depth: usize,
    /// Bytes of one JSON string, key or value, as written (default 4 KiB).
    pub max_string_bytes: usize,
    /// Events in one input (default 50 million).
    pub max_events: usize,
    /// Partners in one input (default 1 million).
    pub max_partners: usize,
    /// FX rates in one input (default 1 million).
    pub max_fx_rates: usize,
    /// Rules in one plan (default 1,000).
    pub max_rules: usize,
    /// Bands of one `tiered` reward (default 100).
    pub max_bands: usize,
    /// Tier levels in one plan (default 100).
    pub max_tier_levels: usize,
    /// The deepest override level, i.e. how many parents up a commission is shared
    /// (default 10).
    pub max_override_levels: usize,
    /// Bonuses in one plan (default 100).
    pub max_bonuses: usize,
    /// Versions in one `plan_history` (default 1,000).
    pub max_plan_versions: usize,
    /// Touches one customer may have: attribution weighs all of them at each conversion it
    /// decides, and explains each (default 1,000).
    pub max_touches_per_customer: usize,
    /// Statements one partner may have in a report (default 1,200: a century of months).
    pub max_statements_per_partner: usize,
    /// Period ends (each evaluates tiers and period bonuses for every partner) between the
    /// first event and the last event or `as_of` (default 1,200: a century of months).
    pub max_periods: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_document_bytes: 1 << 30,
            max_plan_bytes: 1 << 20,
            max_depth: 64,
            max_string_bytes: 4096,
            max_events: 50_000_000,
            max_partners: 1_000_000,
            max_fx_rates: 1_000_000,
            max_rules: 1_000,
            max_bands: 100,
            max_tier_levels: 100,
            max_override_levels: 10,
            max_bonuses: 100,
            max_plan_versions: 1_000,
            max_touches_per_customer: 1_000,
            max_statements_per_partner: 1_200,
            max_periods: 1_200,
        }
    }
}

pub(crate) fn exceeded(path: &str, limit: &str, value: usize, max: usize) -> Error {
    Error::new(
        ErrorCode::LimitExceeded,
        path,
        format!("{limit} is {max}, and this has {value} (the host can raise it through Limits)"),
    )
}

impl Limits {
    /// Reads limits from a JSON object; absent fields keep their defaults.
    pub fn from_json(json: &str) -> Result<Limits> {
        crate::json::from_str_at(json, "limits")
    }

    /// Parses and checks an input document `{plan, partners, events, fx, as_of}`.
    pub fn parse_input(&self, json: &str) -> Result<Input> {
        self.parse_input_doc(json, true).map(|(input, _)| input)
    }

    /// [`Limits::parse_input`] for a document whose `as_of` may be absent (an engine's
    /// starting document).
    pub(crate) fn parse_input_doc(
        &self,
        json: &str,
        require_as_of: bool,
    ) -> Result<(Input, Option<crate::time::Instant>)> {
        self.check_text(json, "", self.max_document_bytes, "max_document_bytes")?;
        let parsed = Input::parse(json, require_as_of)?;
        self.check_input(&parsed.0)?;
        Ok(parsed)
    }

    /// Parses and checks a plan document.
    pub fn parse_plan(&self, json: &str) -> Result<Plan> {
        self.check_text(json, "", self.max_plan_bytes, "max_plan_bytes")?;
        let plan = Plan::from_json(json)?;
        self.check_plan(&plan, "")?;
        Ok(plan)
    }

    /// Checks the counts of a parsed input.
    pub fn check_input(&self, input: &Input) -> Result<()> {
        let counts = [
            ("events", input.events.len(), self.max_events, "max_events"),
            (
                "partners",
                input.partners.len(),
                self.max_partners,
                "max_partners",
            ),
            ("fx", input.fx.len(), self.max_fx_rates, "max_fx_rates"),
        ];
        for (path, n, max, name) in counts {
            if n > max {
                return Err(exceeded(path, name, n, max));
            }
        }
        self.check_plan(&input.plan, "plan")
    }

    /// Checks the counts and written size of a parsed plan, every version of a history;
    /// `root` prefixes error paths (`plan`, or empty for a plan document of its own).
    pub fn check_plan(&self, plan: &Plan, root: &str) -> Result<()> {
        let versions = plan.versions();
        if versions.len() > self.max_plan_versions {
            // A single plan is one version (only a host allowing none refuses it).
            let path = if versions[0].0.is_some() {
                "plan_history"
            } else {
                root
            };
            return Err(exceeded(
                path,
                "max_plan_versions",
                versions.len(),
                self.max_plan_versions,
            ));
        }
        for (v, (at, version)) in versions.iter().enumerate() {
            // A version sits at `plan_history[v].plan` of the input document.
            let vroot = match at {
                Some(_) => format!("plan_history[{v}].plan"),
                None => root.to_owned(),
            };
            self.check_plan_doc(version.doc(), &vroot)?;
        }
        Ok(())
    }

    /// Checks one plan document's counts and its size written compactly.
    fn check_plan_doc(&self, doc: &PlanDoc, root: &str) -> Result<()> {
        let rules = doc.rules.len();
        if rules > self.max_rules {
            return Err(exceeded(
                &join(root, "rules"),
                "max_rules",
                rules,
                self.max_rules,
            ));
        }
        for (i, r) in doc.rules.iter().enumerate() {
            if let RewardKind::Tiered(b) = &r.reward.kind
                && b.bands.len() > self.max_bands
            {
                return Err(exceeded(
                    &join(root, &format!("rules[{i}].reward.tiered.bands")),
                    "max_bands",
                    b.bands.len(),
                    self.max_bands,
                ));
            }
        }
        if let Some(t) = &doc.tiers
            && t.levels.len() > self.max_tier_levels
        {
            return Err(exceeded(
                &join(root, "tiers.levels"),
                "max_tier_levels",
                t.levels.len(),
                self.max_tier_levels,
            ));
        }
        // Levels are distinct and start at 1 (validation), so bounding the deepest one also
        // bounds how many there are.
        for (i, o) in doc.overrides.iter().enumerate() {
            let level = usize::try_from(o.level).unwrap_or(usize::MAX);
            if level > self.max_override_levels {
                return Err(exceeded(
                    &join(root, &format!("overrides[{i}].level")),
                    "max_override_levels",
                    level,
                    self.max_override_levels,
                ));
            }
        }
        if doc.bonuses.len() > self.max_bonuses {
            return Err(exceeded(
                &join(root, "bonuses"),
                "max_bonuses",
                doc.bonuses.len(),
                self.max_bonuses,
            ));
        }
        // A plan embedded in an input has no text of its own: measure it written compactly.
        let bytes = serde_json::to_string(doc).map_or(0, |s| s.len());
        if bytes > self.max_plan_bytes {
            return Err(exceeded(root, "max_plan_bytes", bytes, self.max_plan_bytes));
        }
        Ok(())
    }

    /// Checks size, nesting depth and string lengths of raw JSON text in one pass.
    ///
    /// Malformed text is left for the parser to report; this pass only has to be right on
    /// well-formed text and never to fail on the rest.
    pub fn check_text(&self, text: &str, root: &str, max_bytes: usize, name: &str) -> Result<()> {
        if text.len() > max_bytes {
            return Err(exceeded(root, name, text.len(), max_bytes));
        }
        let mut scan = Scan::new(root);
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'"' => {
                    let start = i + 1;
                    let mut j = start;
                    while j < bytes.len() && bytes[j] != b'"' {
                        j += if bytes[j] == b'\\' { 2 } else { 1 };
                    }
                    let end = j.min(bytes.len());
                    if end - start > self.max_string_bytes {
                        return Err(exceeded(
                            &scan.path(),
                            "max_string_bytes",
                            end - start,
                            self.max_string_bytes,
                        ));
                    }
                    scan.string(text.get(start..end).unwrap_or(""));
                    i = j + 1;
                    continue;
                }
                b'{' | b'[' => {
                    // The path named is the container's own: where it sits in its parent.
                    if scan.depth() + 1 > self.max_depth {
                        return Err(exceeded(
                            &scan.path(),
                            "max_depth",
                            scan.depth() + 1,
                            self.max_depth,
                        ));
                    }
                    scan.open(bytes[i] == b'{');
                }
                b'}' | b']' => scan.close(),
                b',' => scan.comma(),
                b':' => scan.colon(),
                _ => {}
            }
            i += 1;
        }
        Ok(())
    }
}

/// Where the byte scan is, kept only so that a limit error can name a path.
struct Scan<'a> {
    root: &'a str,
    frames: Vec<Frame>,
}

enum Frame {
    /// An object; the key being read or last read, and whether a key is expected next.
    Object { key: String, want_key: bool },
    /// An array and the index of the current element.
    Array(usize),
}

impl<'a> Scan<'a> {
    fn new(root: &'a str) -> Self {
        Scan {
            root,
            frames: Vec::new(),
        }
    }

    fn depth(&self) -> usize {
        self.frames.len()
    }

    fn open(&mut self, object: bool) {
        self.frames.push(if object {
            Frame::Object {
                key: String::new(),
                want_key: true,
            }
        } else {
            Frame::Array(0)
        });
    }

    fn close(&mut self) {
        self.frames.pop();
    }

    fn comma(&mut self) {
        match self.frames.last_mut() {
            Some(Frame::Object { want_key, .. }) => *want_key = true,
            Some(Frame::Array(n)) => *n += 1,
            None => {}
        }
    }

    fn colon(&mut self) {
        if let Some(Frame::Object { want_key, .. }) = self.frames.last_mut() {
            *want_key = false;
        }
    }

    fn string(&mut self, s: &str) {
        // Keys over the string limit never get here, so this copy is bounded.
        if let Some(Frame::Object {
            key,
            want_key: true,
        }) = self.frames.last_mut()
        {
            s.clone_into(key);
        }
    }

    fn path(&self) -> String {
        let mut p = self.root.to_owned();
        for f in &self.frames {
            match f {
                Frame::Object { key, want_key } => {
                    // Only name the key once its value is being read.
                    if !*want_key {
                        if !p.is_empty() {
                            p.push('.');
                        }
                        p.push_str(key);
                    }
                }
                Frame::Array(n) => p.push_str(&format!("[{n}]")),
            }
        }
        p
    }
}

fn join(root: &str, field: &str) -> String {
    if root.is_empty() {
        field.to_owned()
    } else {
        format!("{root}.{field}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_path(r: Result<()>) -> (String, String) {
        let e = r.unwrap_err();
        (e.code().as_str().to_owned(), e.path().to_owned())
    }

    #[test]
    fn depth_is_reported_at_the_path_that_exceeds_it() {
        let limits = Limits {
            max_depth: 3,
            ..Limits::default()
        };
        let text = r#"{"a": [1, {"b": {"c": 1}}]}"#;
        let (code, path) = code_path(limits.check_text(text, "", usize::MAX, "x"));
        assert_eq!(code, "LimitExceeded");
        assert_eq!(path, "a[1].b");
        assert!(
            limits
                .check_text(r#"{"a": [1, {"b": 2}]}"#, "", usize::MAX, "x")
                .is_ok()
        );
    }

    #[test]
    fn long_strings_name_their_path_and_escapes_do_not_end_them() {
        let limits = Limits {
            max_string_bytes: 7,
            ..Limits::default()
        };
        assert!(
            limits
                .check_text(r#"{"id": "abcdefg"}"#, "", usize::MAX, "x")
                .is_ok()
        );
        let (_, path) = code_path(limits.check_text(
            r#"{"events": [{"id": "a"}, {"id": "ab\"cdef"}]}"#,
            "",
            usize::MAX,
            "x",
        ));
        assert_eq!(path, "events[1].id");
    }

    #[test]
    fn malformed_text_never_panics() {
        let limits = Limits::default();
        for text in [
            "\"",
            "\"\\",
            "]]]}",
            "{\"a\":",
            "[\"\\\"",
            "{\"é\":\"\\u00e9",
        ] {
            let _ = limits.check_text(text, "", usize::MAX, "x");
        }
    }
}
