//! Time: instants, calendar periods in the plan zone.
