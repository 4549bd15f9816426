//! Money: currencies, rounding, allocation.
