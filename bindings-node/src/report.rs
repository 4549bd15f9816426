//! `Report`: the result of an evaluation, held on the Rust side.
//!
//! The report stays a Rust value until the caller asks for it: `toJson()` writes the core's
//! canonical JSON once and keeps it, `toObject()` parses exactly those bytes, and the small
//! accessors read the value directly, so a million-entry report costs nothing until used.

use std::sync::OnceLock;

use napi::Env;
use napi::bindgen_prelude::Unknown;
use napi_derive::napi;

use crate::convert;
use crate::error;

/// The report of one evaluation (SPEC §11).
#[napi]
pub struct Report {
    inner: partnerkit::Report,
    canonical: OnceLock<String>,
}

/// What a partner holds in one currency as of the report (paid entries excluded).
#[napi(object)]
pub struct Balance {
    /// ISO 4217 code.
    pub currency: String,
    /// Within its hold, as a decimal string with the currency's digits.
    pub pending: String,
    /// Past its hold and not yet paid, as a decimal string with the currency's digits.
    pub available: String,
}

impl Report {
    /// Wraps a core report.
    pub fn new(inner: partnerkit::Report) -> Self {
        Report {
            inner,
            canonical: OnceLock::new(),
        }
    }

    fn canonical(&self, env: &Env) -> napi::Result<&str> {
        if let Some(s) = self.canonical.get() {
            return Ok(s);
        }
        let s = error::call(env, || Ok(self.inner.to_canonical_json()))?;
        Ok(self.canonical.get_or_init(|| s))
    }
}

#[napi]
impl Report {
    /// The canonical JSON (SPEC §11): the core's bytes, identical in every binding.
    #[napi]
    pub fn to_json(&self, env: Env) -> napi::Result<String> {
        self.canonical(&env).map(str::to_owned)
    }

    /// The report as a plain object: `JSON.parse` of the canonical JSON, so amounts are
    /// decimal strings.
    #[napi(ts_return_type = "ReportDocument")]
    pub fn to_object<'env>(&self, env: &'env Env) -> napi::Result<Unknown<'env>> {
        let text = self.canonical(env)?;
        convert::parse_json(env, text)
    }

    /// The plan id.
    #[napi(getter)]
    pub fn plan(&self) -> String {
        self.inner.plan.clone()
    }

    /// The instant the report is as of (RFC 3339, UTC).
    #[napi(getter)]
    pub fn as_of(&self) -> String {
        partnerkit::time::fmt_instant(self.inner.as_of)
    }

    /// Number of ledger entries.
    #[napi(getter)]
    pub fn entry_count(&self) -> u32 {
        u32::try_from(self.inner.entries.len()).unwrap_or(u32::MAX)
    }

    /// Identical events that were ignored.
    #[napi(getter)]
    pub fn duplicates_ignored(&self) -> i64 {
        i64::try_from(self.inner.duplicates_ignored).unwrap_or(i64::MAX)
    }

    /// A partner's pending and available balance in each currency, as of the report.
    #[napi]
    pub fn balances(&self, env: Env, partner: String) -> napi::Result<Vec<Balance>> {
        error::call(&env, || {
            Ok(self
                .inner
                .balances(&partner)
                .into_iter()
                .map(|(c, pending, available)| Balance {
                    currency: c.as_str().to_owned(),
                    pending: partnerkit::money::fmt_amount(pending, c.digits()),
                    available: partnerkit::money::fmt_amount(available, c.digits()),
                })
                .collect())
        })
    }
}
