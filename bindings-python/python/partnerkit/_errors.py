"""Exceptions: one `PartnerkitError` subclass per stable error code of the core.

Each carries `.code` (e.g. ``"InvalidValue"``), `.path` (the document path of the value at
fault, e.g. ``"events[3].amount"``; ``""`` for the whole document) and `.message`. Every code
but ``Internal`` means the input was wrong, so those classes are also `ValueError`s.
"""

from __future__ import annotations


class PartnerkitError(Exception):
    """An error from partnerkit, with its stable code and the path of the value at fault."""

    code: str
    path: str
    message: str

    def __init__(self, code: str, path: str, message: str) -> None:
        super().__init__(code, path, message)
        self.code = code
        self.path = path
        self.message = message

    def __str__(self) -> str:
        where = f" at {self.path}" if self.path else ""
        return f"{self.code}{where}: {self.message}"

    def __reduce__(self) -> tuple[type[PartnerkitError], tuple[str, str, str]]:
        # Errors raised in worker processes travel back to the parent intact.
        return (type(self), (self.code, self.path, self.message))


class InvalidJsonError(PartnerkitError, ValueError):
    """The document is not well-formed JSON."""


class UnknownFieldError(PartnerkitError, ValueError):
    """A field the schema does not know."""


class MissingFieldError(PartnerkitError, ValueError):
    """A required field is absent."""


class InvalidValueError(PartnerkitError, ValueError):
    """A value has the wrong type, format or range (a ``float`` amount, for one)."""


class UnknownCurrencyError(PartnerkitError, ValueError):
    """A currency code is not an ISO 4217 code with a minor unit."""


class UnknownPartnerError(PartnerkitError, ValueError):
    """A partner id is referenced but not declared."""


class UnknownPaymentError(PartnerkitError, ValueError):
    """A refund or chargeback names a payment that does not exist (yet)."""


class RefundExceedsPaymentError(PartnerkitError, ValueError):
    """A refund exceeds what is left unrefunded of its payment."""


class ConflictingEventError(PartnerkitError, ValueError):
    """The same event id was given twice with different content."""


class CurrencyMismatchError(PartnerkitError, ValueError):
    """Amounts in different currencies were combined where one currency is required."""


class MissingFxRateError(PartnerkitError, ValueError):
    """A currency conversion needs a rate that the input does not provide."""


class CyclicParentError(PartnerkitError, ValueError):
    """Partner parents form a cycle."""


class LateEventError(PartnerkitError, ValueError):
    """An event arrived at an incremental engine after a later one was applied."""


class LimitExceededError(PartnerkitError, ValueError):
    """A size or arithmetic limit was exceeded."""


class InvalidSnapshotError(PartnerkitError, ValueError):
    """Bytes given to `Engine.restore` are not a snapshot this version can read (not one at
    all, truncated, corrupted, or written in a newer format)."""


class InternalError(PartnerkitError):
    """A bug in partnerkit (a panic in the core included): please report it."""


ERRORS: dict[str, type[PartnerkitError]] = {
    "InvalidJson": InvalidJsonError,
    "UnknownField": UnknownFieldError,
    "MissingField": MissingFieldError,
    "InvalidValue": InvalidValueError,
    "UnknownCurrency": UnknownCurrencyError,
    "UnknownPartner": UnknownPartnerError,
    "UnknownPayment": UnknownPaymentError,
    "RefundExceedsPayment": RefundExceedsPaymentError,
    "ConflictingEvent": ConflictingEventError,
    "CurrencyMismatch": CurrencyMismatchError,
    "MissingFxRate": MissingFxRateError,
    "CyclicParent": CyclicParentError,
    "LateEvent": LateEventError,
    "LimitExceeded": LimitExceededError,
    "InvalidSnapshot": InvalidSnapshotError,
    "Internal": InternalError,
}
"""The exception class of each error code (a test checks it covers the core's codes)."""
