//! Arrow in and out of the fast path (feature `arrow`).
//!
//! Events come in as record batches with the columns below (any order; a column a batch
//! lacks is all null; a column not listed is an error). Every row passes the checks the
//! JSON input's events pass, with the same codes and `events[i].field` paths (`i` counts
//! rows across batches):
//!
//! | column | type | for |
//! |---|---|---|
//! | `id` | string | every event (non-empty) |
//! | `kind` | string: `touch`, `signup`, `payment`, `refund`, `chargeback` | every event |
//! | `at` | timestamp with a time zone (any unit) | every event |
//! | `partner` | string | touches |
//! | `customer` | string | touches, signups, payments |
//! | `channel` | string: `link`, `coupon`, `deal_registration`, `manual` | touches |
//! | `amount` | decimal128 or decimal string | payments, refunds |
//! | `currency` | string (ISO 4217) | payments; refunds and chargebacks optionally |
//! | `tax`, `discount` | decimal128 or decimal string | payments, optionally |
//! | `payment` | string | refunds, chargebacks |
//! | `qualified` | boolean | signups, optionally |
//!
//! Strings may be `utf8`, `large_utf8`, `utf8_view` or dictionaries of them (a dictionary
//! column is interned once per distinct value). Floating-point amounts are refused: money
//! is exact. A timestamp without a time zone is refused: an instant needs its offset.
//!
//! The ledger goes out as one record batch (see [`ledger_to_batch`]), text columns as
//! dictionaries over the ledger's names, so no string is copied per entry except the id.
//! [`LedgerColumns`] picks the columns to write ([`ledger_into_batch_with`]): the others are
//! not built at all.

mod read;
mod select;
mod write;

/// The record batch type of the Arrow crates the core uses (re-exported so that bindings
/// name the same version).
pub use arrow_array::RecordBatch;
pub use read::{events_from_batches, events_from_batches_by_rows};
pub use select::LedgerColumns;
pub use write::{
    events_to_batch, ledger_and_totals_into_batches, ledger_and_totals_into_batches_with,
    ledger_into_batch, ledger_into_batch_with, ledger_to_batch, totals_to_batch,
};

/// The event columns, in the order [`events_to_batch`] writes them.
pub(crate) const COLUMNS: [&str; 17] = [
    "id",
    "kind",
    "at",
    "partner",
    "customer",
    "channel",
    "amount",
    "currency",
    "tax",
    "discount",
    "payment",
    "qualified",
    // The optional text fields, in the order of `columns::LABELS`.
    "campaign",
    "ip",
    "product",
    "subscription",
    "order",
];
