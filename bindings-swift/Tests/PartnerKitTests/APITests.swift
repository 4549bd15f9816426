// Errors, panics, plans, decimals and instants across the boundary: the Swift twin of the
// Kotlin runner's API tests (bindings-swift/jvm-test/src/Main.kt).

import Foundation
import PartnerKit
import XCTest

let smallInput = """
{
  "plan": {"schema": "partnerkit/plan@1", "id": "affiliates", "currency": "USD",
           "rules": [{"id": "first-year", "when": {"within_months": 12}, "reward": {"percent": "20"}}]},
  "partners": [{"id": "ana"}],
  "events": [
    {"id": "t1", "kind": "touch", "at": "2026-01-10T09:00:00Z", "partner": "ana", "customer": "c1", "channel": "link"},
    {"id": "p1", "kind": "payment", "at": "2026-01-15T12:00:00Z", "customer": "c1", "amount": "49.00", "currency": "USD"}
  ],
  "as_of": "2026-02-01T00:00:00Z"
}
"""

let badPercent = smallInput.replacingOccurrences(of: "\"percent\": \"20\"", with: "\"percent\": \"150\"")

/// Runs `body`, which must throw a PartnerKitError, and returns its fields.
func failure(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> (code: ErrorCode, path: String, message: String)? {
    do {
        try body()
        XCTFail("expected a PartnerKitError, the call succeeded", file: file, line: line)
    } catch PartnerKitError.Failed(let code, let path, let message) {
        return (code, path, message)
    } catch {
        XCTFail("expected a PartnerKitError, got \(error)", file: file, line: line)
    }
    return nil
}

func dec(_ text: String) -> Decimal {
    Decimal(string: text, locale: Locale(identifier: "en_US_POSIX"))!
}

final class APITests: XCTestCase {
    func testEveryErrorCodeHasItsStableName() {
        let names = [
            "InvalidJson", "UnknownField", "MissingField", "InvalidValue", "UnknownCurrency",
            "UnknownPartner", "UnknownPayment", "RefundExceedsPayment", "ConflictingEvent",
            "CurrencyMismatch", "MissingFxRate", "CyclicParent", "LateEvent", "LimitExceeded",
            "InvalidSnapshot", "Internal",
        ]
        XCTAssertEqual(names, ErrorCode.allCases.map { "\($0)" })
    }

    func testBadInputIsAPartnerKitErrorWithCodePathAndMessage() {
        let e = failure { _ = try evaluate(inputJson: badPercent) }
        XCTAssertEqual(e?.code, .invalidValue)
        XCTAssertEqual(e?.path, "plan.rules[0].reward.percent")
        XCTAssertTrue(e?.message.contains("150") ?? false)
        XCTAssertEqual(failure { _ = try evaluate(inputJson: "{\"plan\": ") }?.code, .invalidJson)
    }

    func testAPanicInTheCoreIsAnInternalErrorAndTheProcessLivesOn() throws {
        let e = failure { try debugPanic(message: "boom") }
        XCTAssertEqual(e?.code, .internal)
        XCTAssertTrue(e?.message.contains("boom") ?? false)
        XCTAssertEqual(try evaluate(inputJson: smallInput).planId(), "affiliates")
    }

    func testPlanValidation() throws {
        let good = """
        {"schema": "partnerkit/plan@1", "id": "p", "currency": "EUR", "timezone": "Europe/Paris",
         "rules": [{"id": "r", "reward": {"percent": "10"}}]}
        """
        let plan = try Plan.fromJson(json: good)
        XCTAssertEqual(plan.id(), "p")
        XCTAssertEqual(plan.currency(), "EUR")
        XCTAssertEqual(plan.timezone(), "Europe/Paris")
        XCTAssertEqual(try validatePlan(json: good).count, 0)
        let bad = """
        {"schema": "partnerkit/plan@1", "id": "p", "currency": "EUR", "colour": "red",
         "rules": [{"id": "r", "reward": {"percent": "150"}}]}
        """
        let issues = try validatePlan(json: bad)
        XCTAssertEqual(issues.map { "\($0.code) \($0.path)" },
                       ["UnknownField plan.colour", "InvalidValue plan.rules[0].reward.percent"])
        let e = failure { _ = try Plan.fromJson(json: bad) }
        XCTAssertEqual(e?.code, issues.first?.code)
        XCTAssertEqual(e?.path, issues.first?.path)
    }

    func testDecimalsRoundTripExactly() throws {
        let cases: [(String, String, String)] = [
            ("49.9", "USD", "49.90"), ("0", "USD", "0"), ("-12.345", "BHD", "-12.345"),
            ("1000", "JPY", "1000"), ("0.0001", "CLF", "0.0001"),
            ("-999999999999999999.9999", "CLF", "-999999999999999999.9999"),
            ("1000000000000000000", "USD", "1000000000000000000"),
        ]
        for (value, currency, want) in cases {
            XCTAssertEqual(try amountIn(amount: dec(value), currency: currency), dec(want), "\(value) \(currency)")
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let units = Int64.random(in: -999_999_999_999_999...999_999_999_999_999, using: &generator)
            let x = Decimal(sign: units < 0 ? .minus : .plus, exponent: -4, significand: Decimal(units.magnitude))
            XCTAssertEqual(try amountIn(amount: x, currency: "CLF"), x, "round trip of \(x)")
        }
    }

    func testDecimalsTheCoreRefusesAreErrors() {
        let tooPrecise = failure { _ = try amountIn(amount: dec("49.999"), currency: "USD") }
        XCTAssertEqual(tooPrecise?.code, .invalidValue)
        XCTAssertEqual(tooPrecise?.path, "amount")
        let unknown = failure { _ = try amountIn(amount: dec("1"), currency: "usd") }
        XCTAssertEqual(unknown?.code, .unknownCurrency)
        XCTAssertEqual(unknown?.path, "currency")
        let huge = failure { _ = try amountIn(amount: dec("1000000000000000000.01"), currency: "USD") }
        XCTAssertEqual(huge?.code, .limitExceeded)
        // 29 significant digits cannot cross into rust_decimal at all: refused while lifting.
        let digits = failure { _ = try amountIn(amount: dec("1.0000000000000000000000000001"), currency: "USD") }
        XCTAssertEqual(digits?.code, .limitExceeded)
        let nan = failure { _ = try amountIn(amount: Decimal.nan, currency: "USD") }
        XCTAssertEqual(nan?.code, .invalidValue)
    }

    func testTypedRecords() throws {
        let report = try evaluate(inputJson: smallInput)
        let entries = try report.entries()
        XCTAssertEqual(entries.count, 1)
        XCTAssertEqual(entries[0].kind, .commission)
        XCTAssertEqual(entries[0].amount, dec("9.80"))
        XCTAssertTrue(sameInstant(instant("2026-01-15T12:00:00Z"), entries[0].earnedAt))
        XCTAssertTrue(sameInstant(instant("2026-02-14T12:00:00Z"), entries[0].availableAt))
        let balances = try report.balances(partner: "ana")
        XCTAssertEqual(balances.map { $0.currency }, ["USD"])
        XCTAssertEqual(balances.first?.pending, dec("9.80"))
        XCTAssertEqual(balances.first?.available, dec("0"))
        XCTAssertEqual(try report.balances(partner: "nobody").count, 0)
        XCTAssertTrue(try report.prettyJson().contains("\n  \"entries\""))
    }

    func testSchemaAndVersion() throws {
        XCTAssertTrue(try planJsonSchema().contains("\"rules\""))
        let cargo = try String(contentsOf: repositoryRoot.appendingPathComponent("Cargo.toml"), encoding: .utf8)
        XCTAssertTrue(cargo.contains("version = \"\(version())\""))
    }

    func testCostOfOneEvaluateOfASmallDocument() {
        // A figure for the notes, never asserted (XCTest reports it).
        measure {
            _ = try? evaluate(inputJson: smallInput)
        }
    }

    func testReadmeExampleRunsAsWritten() {
        // Decimal prints its value ("9.8"), not the written scale: build the expectation the same way.
        XCTAssertEqual(earnings(inputJson: smallInput), "commission \(dec("9.80")) USD, pending \(dec("9.80"))")
        XCTAssertTrue(earnings(inputJson: badPercent).hasPrefix("InvalidValue at plan.rules[0].reward.percent: "))
    }
}
