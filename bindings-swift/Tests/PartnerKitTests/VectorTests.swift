// Every conformance vector through the Swift API, byte for byte, with the typed records
// checked against the canonical JSON. The vectors are read at test time from the
// repository (tests/vectors), so new and changed vectors are always the ones run.

import Foundation
import PartnerKit
import XCTest

/// The repository root: this file is bindings-swift/Tests/PartnerKitTests/VectorTests.swift.
let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

/// `TRUE_UP`-style names of the canonical JSON from uniffi's Swift case names (`trueUp`).
func snakeName(_ value: Any) -> String {
    var out = ""
    for c in String(describing: value) {
        if c.isUppercase {
            out += "_" + c.lowercased()
        } else {
            out.append(c)
        }
    }
    return out
}

/// An RFC 3339 instant of the canonical JSON (`Z`, optional fraction) as a Date.
func instant(_ text: String?) -> Date? {
    guard let text = text else { return nil }
    let parts = text.dropLast().split(separator: ".", maxSplits: 1)
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    guard let whole = formatter.date(from: String(parts[0]) + "Z") else { return nil }
    let fraction = parts.count > 1 ? (Double("0." + parts[1]) ?? 0) : 0
    return whole.addingTimeInterval(fraction)
}

func sameInstant(_ a: Date?, _ b: Date) -> Bool {
    guard let a = a else { return false }
    return abs(a.timeIntervalSince1970 - b.timeIntervalSince1970) < 1e-6
}

/// A decimal of the canonical JSON, exactly.
func decimal(_ text: String?) -> Decimal? {
    guard let text = text else { return nil }
    return Decimal(string: text, locale: Locale(identifier: "en_US_POSIX"))
}

final class VectorTests: XCTestCase {
    func vectorFiles() throws -> [URL] {
        let dir = repositoryRoot.appendingPathComponent("tests/vectors")
        let walker = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil)
        var files: [URL] = []
        while let url = walker?.nextObject() as? URL {
            if url.pathExtension == "json" { files.append(url) }
        }
        return files.sorted { $0.path < $1.path }
    }

    func testEveryVector() throws {
        let files = try vectorFiles()
        XCTAssertGreaterThanOrEqual(files.count, 40, "vectors found under \(repositoryRoot.path)/tests/vectors")
        for file in files {
            let name = file.path.replacingOccurrences(of: repositoryRoot.path + "/", with: "")
            try runVector(file, name: name)
        }
    }

    func runVector(_ file: URL, name: String) throws {
        let vector = try JSON.parse(String(contentsOf: file, encoding: .utf8))
        let input: String
        if let text = vector["input_text"]?.stringValue {
            input = text
        } else {
            input = try XCTUnwrap(vector["input"], "\(name): no input").compact
        }
        // Host limits the vector is evaluated under (absent: the defaults).
        let limits = vector["limits"]?.compact
        if let wantError = vector["expect_error"] {
            do {
                _ = try evaluate(inputJson: input, limitsJson: limits)
                XCTFail("\(name): expected an error \(wantError.compact), evaluation succeeded")
            } catch PartnerKitError.Failed(let code, let path, _) {
                for (key, want) in wantError.members {
                    switch key {
                    case "code": XCTAssertEqual(want.stringValue, "\(code)", "\(name): expect_error.code")
                    case "path": XCTAssertEqual(want.stringValue, path, "\(name): expect_error.path")
                    default: XCTFail("\(name): expect_error.\(key) is not something an error has")
                    }
                }
            }
            return
        }
        let want = try XCTUnwrap(vector["expect_report"], "\(name): no expect_report").compact
        let report = try evaluate(inputJson: input, limitsJson: limits)
        let got = try report.canonicalJson()
        // Bytes, not String ==: Swift compares strings by Unicode canonical equivalence.
        XCTAssertEqual(Array(want.utf8), Array(got.utf8), "\(name): canonical report differs\n  want: \(want)\n  got:  \(got)")
        try checkRecords(report, JSON.parse(got), name: name)
    }

    /// The typed records say what the canonical JSON says. Swift's Decimal keeps the value,
    /// not the written scale, so amounts are compared as numbers.
    func checkRecords(_ report: Report, _ doc: JSON, name: String) throws {
        XCTAssertEqual(doc["plan"]?.stringValue, report.planId(), "\(name): planId")
        XCTAssertTrue(sameInstant(instant(doc["as_of"]?.stringValue), report.asOf()), "\(name): asOf")
        XCTAssertEqual(doc["duplicates_ignored"]?.compact, String(report.duplicatesIgnored()), "\(name): duplicatesIgnored")
        XCTAssertEqual(doc["unattributed"]?.arrayValue.compactMap { $0.stringValue }, report.unattributed(), "\(name): unattributed")

        let docEntries = doc["entries"]?.arrayValue ?? []
        let entries = try report.entries()
        XCTAssertEqual(docEntries.count, entries.count, "\(name): entries")
        for (e, j) in zip(entries, docEntries) {
            let at = "\(name): entry \(e.id)"
            XCTAssertEqual(j["id"]?.stringValue, e.id, at)
            XCTAssertEqual(j["partner"]?.stringValue, e.partner, at)
            XCTAssertEqual(j["kind"]?.stringValue, snakeName(e.kind), at)
            XCTAssertEqual(j["event"]?.stringValue, e.event, at)
            XCTAssertEqual(j["customer"]?.stringValue, e.customer, at)
            XCTAssertEqual(j["rule"]?.stringValue, e.rule, at)
            XCTAssertEqual(decimal(j["amount"]?.stringValue), e.amount, "\(at) amount")
            XCTAssertEqual(j["currency"]?.stringValue, e.currency, at)
            XCTAssertEqual(j["status"]?.stringValue, snakeName(e.status), at)
            XCTAssertTrue(sameInstant(instant(j["earned_at"]?.stringValue), e.earnedAt), "\(at) earnedAt")
            XCTAssertTrue(sameInstant(instant(j["available_at"]?.stringValue), e.availableAt), "\(at) availableAt")
        }

        let docStatements = doc["statements"]?.arrayValue ?? []
        let statements = try report.statements()
        XCTAssertEqual(docStatements.count, statements.count, "\(name): statements")
        for (s, j) in zip(statements, docStatements) {
            let at = "\(name): statement \(s.partner) \(s.period)"
            XCTAssertEqual(j["partner"]?.stringValue, s.partner, at)
            XCTAssertEqual(j["period"]?.stringValue, s.period, at)
            XCTAssertTrue(sameInstant(instant(j["start"]?.stringValue), s.start), "\(at) start")
            XCTAssertTrue(sameInstant(instant(j["end"]?.stringValue), s.end), "\(at) end")
            XCTAssertEqual(j["currency"]?.stringValue, s.currency, at)
            let money: [(String, Decimal)] = [
                ("opening_balance", s.openingBalance), ("credits", s.credits), ("debits", s.debits),
                ("closing_balance", s.closingBalance), ("threshold", s.threshold), ("payout", s.payout),
                ("carried_forward", s.carriedForward), ("written_off", s.writtenOff),
            ]
            for (key, value) in money {
                XCTAssertEqual(decimal(j[key]?.stringValue), value, "\(at) \(key)")
            }
            XCTAssertEqual(j["payable"]?.compact, s.payable ? "true" : "false", at)
            XCTAssertEqual(j["due"]?.stringValue, s.due, at)
            XCTAssertEqual(j["status"]?.stringValue, snakeName(s.status), at)
            let lines = j["lines"]?.arrayValue ?? []
            XCTAssertEqual(lines.count, s.lines.count, "\(at) lines")
            for (l, jl) in zip(s.lines, lines) {
                XCTAssertEqual(jl["entry"]?.stringValue, l.entry, at)
                XCTAssertEqual(decimal(jl["amount"]?.stringValue), l.amount, "\(at) line amount")
                XCTAssertEqual(jl["currency"]?.stringValue, l.currency, at)
                XCTAssertEqual(jl["fx_date"]?.stringValue, l.fxDate, at)
                XCTAssertEqual(decimal(jl["converted"]?.stringValue), l.converted, "\(at) line converted")
            }
        }

        // Balances: per partner and currency, the unpaid entries split by status.
        let partners = Set(docEntries.compactMap { $0["partner"]?.stringValue }).sorted()
        for partner in partners {
            var want: [String: (Decimal, Decimal)] = [:]
            for j in docEntries where j["partner"]?.stringValue == partner {
                let status = j["status"]?.stringValue
                if status == "paid" { continue }
                let currency = j["currency"]?.stringValue ?? ""
                let amount = decimal(j["amount"]?.stringValue) ?? 0
                var slot = want[currency] ?? (0, 0)
                if status == "pending" { slot.0 += amount } else { slot.1 += amount }
                want[currency] = slot
            }
            let got = try report.balances(partner: partner)
            XCTAssertEqual(want.keys.sorted(), got.map { $0.currency }, "\(name): balances(\(partner)) currencies")
            for b in got {
                XCTAssertEqual(want[b.currency]?.0, b.pending, "\(name): balances(\(partner)) pending")
                XCTAssertEqual(want[b.currency]?.1, b.available, "\(name): balances(\(partner)) available")
            }
        }
    }
}
