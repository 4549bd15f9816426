// The incremental Engine through Swift, the twin of the Kotlin runner's EngineTests.kt:
// every conformance vector fed to it three ways (the whole document; the document without
// its events, then its events one at a time in canonical order with a snapshot and restore
// half-way; the events as one array), each compared byte for byte with `expect_report`;
// then late, redelivered and conflicting events, snapshots, partners and FX rates between
// events, and host limits.

import Foundation
import PartnerKit
import XCTest

/// Canonical order of kinds at the same instant (SPEC §12).
let kindRank = ["touch", "assign", "signup", "payment", "refund", "chargeback", "adjustment"]

/// An RFC 3339 instant of an input document (`Z` or an offset, optional fraction).
func documentInstant(_ text: String?) -> Date? {
    guard let text = text else { return nil }
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    if let date = formatter.date(from: text) { return date }
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.date(from: text)
}

func allVectorFiles() -> [URL] {
    let dir = repositoryRoot.appendingPathComponent("tests/vectors")
    let walker = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil)
    var files: [URL] = []
    while let url = walker?.nextObject() as? URL {
        if url.pathExtension == "json" { files.append(url) }
    }
    return files.sorted { $0.path < $1.path }
}

let engineDoc = """
{
  "plan": {"schema": "partnerkit/plan@1", "id": "affiliates", "currency": "USD",
           "rules": [{"id": "first-year", "when": {"within_months": 12}, "reward": {"percent": "20"}}]},
  "partners": [{"id": "ana"}]
}
"""
let t1 = #"{"id": "t1", "kind": "touch", "at": "2026-01-10T09:00:00Z", "partner": "ana", "customer": "c1", "channel": "link"}"#
let p1 = #"{"id": "p1", "kind": "payment", "at": "2026-01-15T12:00:00Z", "customer": "c1", "amount": "49.00", "currency": "USD"}"#
let p2 = #"{"id": "p2", "kind": "payment", "at": "2026-01-20T00:00:00Z", "customer": "c1", "amount": "10.00", "currency": "USD"}"#
let feb1 = documentInstant("2026-02-01T00:00:00Z")!

final class EngineTests: XCTestCase {
    /// An engine with t1 and p1 applied: smallInput's document, fed to an engine.
    func started() throws -> Engine {
        let engine = try Engine(documentJson: engineDoc)
        _ = try engine.apply(eventsJson: t1)
        _ = try engine.apply(eventsJson: p1)
        return engine
    }

    func balanceText(_ engine: Engine, _ partner: String, _ asOf: Date) throws -> [String] {
        try engine.balances(partner: partner, asOf: asOf).map { "\($0.currency) \($0.pending) \($0.available) \($0.paid)" }
    }

    func sameBytes(_ want: String, _ report: Report, _ how: String) throws {
        let got = try report.canonicalJson()
        // Bytes, not String ==: Swift compares strings by Unicode canonical equivalence.
        XCTAssertEqual(Array(want.utf8), Array(got.utf8), "\(how): canonical report differs\n  want: \(want)\n  got:  \(got)")
    }

    func testEveryVectorThroughTheEngine() throws {
        let files = allVectorFiles()
        XCTAssertGreaterThanOrEqual(files.count, 40, "vectors found under \(repositoryRoot.path)/tests/vectors")
        for file in files {
            let name = file.path.replacingOccurrences(of: repositoryRoot.path + "/", with: "")
            try runVector(file, name: name)
        }
    }

    func runVector(_ file: URL, name: String) throws {
        let vector = try JSON.parse(String(contentsOf: file, encoding: .utf8))
        let limits = vector["limits"]?.compact
        let input = vector["input"]
        let text: String
        if let raw = vector["input_text"]?.stringValue {
            text = raw
        } else {
            text = try XCTUnwrap(input, "\(name): no input").compact
        }
        let asOf = documentInstant(input?["as_of"]?.stringValue)
        if let wantError = vector["expect_error"] {
            // The whole document fails as `evaluate` fails, when the engine is built or when
            // it reports.
            do {
                let engine = try Engine(documentJson: text, limitsJson: limits)
                _ = try engine.report(asOf: try XCTUnwrap(asOf, "\(name): no as_of"))
                XCTFail("\(name): expected an error \(wantError.compact), the engine succeeded")
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
        let document = try XCTUnwrap(input, "\(name): no input")
        let until = try XCTUnwrap(asOf, "\(name): no as_of")

        // 1. The whole document.
        try sameBytes(want, Engine(documentJson: text, limitsJson: limits).report(asOf: until), "\(name): whole document")

        // 2. The document without its events; then the events up to as_of one at a time in
        // canonical order (at, kind, id), each call's entries checked against the report as
        // of its event, with a snapshot and restore half-way.
        let start = JSON.object(document.members.filter { $0.0 != "events" && $0.0 != "as_of" }).compact
        let events = (document["events"]?.arrayValue ?? []).filter {
            (documentInstant($0["at"]?.stringValue) ?? .distantFuture) <= until
        }
        let ordered = events.sorted { a, b in
            let ka = (documentInstant(a["at"]?.stringValue)!, kindRank.firstIndex(of: a["kind"]?.stringValue ?? "") ?? -1, a["id"]?.stringValue ?? "")
            let kb = (documentInstant(b["at"]?.stringValue)!, kindRank.firstIndex(of: b["kind"]?.stringValue ?? "") ?? -1, b["id"]?.stringValue ?? "")
            return ka < kb
        }
        var engine = try Engine(documentJson: start, limitsJson: limits)
        for (k, event) in ordered.enumerated() {
            if k == ordered.count / 2 {
                let bytes = try engine.snapshot()
                let back = try Engine.restore(snapshot: bytes, limitsJson: limits)
                XCTAssertEqual(try back.snapshot(), bytes, "\(name): a restored engine snapshots to the same bytes")
                XCTAssertEqual(try back.eventsApplied(), try engine.eventsApplied(), "\(name): eventsApplied after restore")
                engine = back
            }
            let written = try engine.apply(eventsJson: event.compact)
            if !written.isEmpty {
                let ids = Set(written.map { $0.id })
                let at = try XCTUnwrap(documentInstant(event["at"]?.stringValue))
                let inReport = try engine.report(asOf: at).entries().filter { ids.contains($0.id) }
                XCTAssertEqual(inReport, written, "\(name): entries written by \(event["id"]?.stringValue ?? "?")")
            }
        }
        try sameBytes(want, engine.report(asOf: until), "\(name): one at a time")

        // 3. The events as one array, in the document's order (the engine sorts a batch).
        let batch = try Engine(documentJson: start, limitsJson: limits)
        _ = try batch.apply(eventsJson: JSON.array(events).compact)
        try sameBytes(want, batch.report(asOf: until), "\(name): one array")
    }

    func testApplyReturnsTypedEntriesAndTheReportIsEvaluates() throws {
        let engine = try Engine(documentJson: engineDoc)
        XCTAssertEqual(try engine.apply(eventsJson: t1).count, 0, "a touch writes no entry")
        // 49.00 USD at 20% = 9.80, held 30 days: available from 2026-02-14T12:00:00Z.
        let written = try engine.apply(eventsJson: p1)
        XCTAssertEqual(written.count, 1)
        XCTAssertEqual(written.first?.id, "commission:p1:first-year:ana")
        XCTAssertEqual(written.first?.kind, .commission)
        XCTAssertEqual(written.first?.amount, dec("9.80"))
        XCTAssertEqual(written.first?.status, .pending)
        XCTAssertTrue(sameInstant(instant("2026-02-14T12:00:00Z"), written.first!.availableAt))
        XCTAssertEqual(try engine.eventsApplied(), 2)
        XCTAssertEqual(try engine.report(asOf: feb1).canonicalJson(), try evaluate(inputJson: smallInput).canonicalJson())
        XCTAssertEqual(try balanceText(engine, "ana", feb1), ["USD \(dec("9.80")) 0 0"])
        XCTAssertEqual(try balanceText(engine, "ana", documentInstant("2026-02-20T00:00:00Z")!), ["USD 0 \(dec("9.80")) 0"])
        let odd = documentInstant("2026-02-01T00:00:00.250Z")!
        XCTAssertTrue(try sameInstant(odd, engine.report(asOf: odd).asOf()), "report asOf with milliseconds")
        let text = try Engine(documentJson: engineDoc).applyJson(eventsJson: "[\(t1), \(p1)]")
        XCTAssertTrue(text.contains(#""amount":"9.80","currency":"USD","status":"pending""#), text)
    }

    func testALateEventIsLateEventAndChangesNothing() throws {
        let engine = try started()
        let early = #"{"id": "t0", "kind": "touch", "at": "2026-01-12T00:00:00Z", "partner": "ana", "customer": "c2", "channel": "link"}"#
        let e = failure { _ = try engine.apply(eventsJson: early) }
        XCTAssertEqual(e?.code, .lateEvent)
        XCTAssertEqual(e?.path, "events[0]")
        XCTAssertEqual(try engine.eventsApplied(), 2)
    }

    func testARedeliveryIsANoOpCountedInDuplicatesIgnored() throws {
        let engine = try started()
        XCTAssertEqual(try engine.apply(eventsJson: p1).count, 0)
        XCTAssertEqual(try engine.eventsApplied(), 2)
        XCTAssertEqual(try engine.report(asOf: feb1).duplicatesIgnored(), 1)
    }

    func testTheSameIdWithOtherContentIsConflictingEvent() throws {
        let engine = try started()
        let e = failure { _ = try engine.apply(eventsJson: p1.replacingOccurrences(of: "49.00", with: "50.00")) }
        XCTAssertEqual(e?.code, .conflictingEvent)
        XCTAssertEqual(e?.path, "events[0]")
        XCTAssertEqual(try balanceText(engine, "ana", feb1), ["USD \(dec("9.80")) 0 0"])
    }

    func testAnArrayIsAppliedAllOrNothing() throws {
        let engine = try started()
        let bad = #"{"id": "p3", "kind": "payment", "at": "2026-01-21T00:00:00Z", "customer": "c1", "amount": "-1.00", "currency": "USD"}"#
        let e = failure { _ = try engine.apply(eventsJson: "[\(p2), \(bad)]") }
        XCTAssertEqual(e?.path, "events[1].amount")
        XCTAssertEqual(try engine.eventsApplied(), 2)
    }

    func testSnapshotAndRestoreGiveTheSameEngine() throws {
        let engine = try started()
        let bytes = try engine.snapshot()
        let back = try Engine.restore(snapshot: bytes)
        XCTAssertEqual(try back.snapshot(), bytes)
        XCTAssertEqual(try back.eventsApplied(), 2)
        // 10.00 at 20% = 2.00 on both.
        XCTAssertEqual(try engine.apply(eventsJson: p2), try back.apply(eventsJson: p2))
        XCTAssertEqual(try back.report(asOf: feb1).entries().last?.amount, dec("2.00"))
        XCTAssertEqual(try engine.report(asOf: feb1).canonicalJson(), try back.report(asOf: feb1).canonicalJson())
    }

    func testBytesThatAreNotASnapshotAreInvalidSnapshot() throws {
        let good = try started().snapshot()
        var flipped = good
        flipped[flipped.startIndex + flipped.count / 2] ^= 1
        let cases: [(String, Data)] = [
            ("empty", Data()), ("garbage", Data("not a snapshot".utf8)),
            ("truncated", good.dropLast()), ("flipped", flipped),
        ]
        for (name, bytes) in cases {
            XCTAssertEqual(failure { _ = try Engine.restore(snapshot: bytes) }?.code, .invalidSnapshot, name)
        }
    }

    func testPartnersAndFxRatesBetweenEvents() throws {
        let engine = try started()
        try engine.upsertPartner(partnerJson: #"{"id": "bo"}"#)
        _ = try engine.apply(eventsJson: #"{"id": "t2", "kind": "touch", "at": "2026-01-16T00:00:00Z", "partner": "bo", "customer": "c2", "channel": "link"}"#)
        // 25.00 at 20% = 5.00 for bo.
        let written = try engine.apply(eventsJson: #"{"id": "p2", "kind": "payment", "at": "2026-01-17T00:00:00Z", "customer": "c2", "amount": "25.00", "currency": "USD"}"#)
        XCTAssertEqual(written.map { "\($0.partner) \($0.amount)" }, ["bo \(dec("5.00"))"])
        try engine.addFx(ratesJson: #"{"date": "2026-01-20", "from": "EUR", "to": "USD", "rate": "1.10"}"#)
        let late = failure { try engine.addFx(ratesJson: #"{"date": "2026-01-01", "from": "EUR", "to": "USD", "rate": "1.10"}"#) }
        XCTAssertEqual(late?.code, .lateEvent)
        let unknown = failure { _ = try engine.balances(partner: "nobody", asOf: feb1) }
        XCTAssertEqual(unknown?.code, .unknownPartner)
        XCTAssertEqual(unknown?.path, "partner")
    }

    func testProgressIsTheReportsItemAndNilWithoutTiers() throws {
        let file = repositoryRoot.appendingPathComponent("tests/vectors/tiers/bronze_silver_gold.json")
        let vector = try JSON.parse(String(contentsOf: file, encoding: .utf8))
        let input = try XCTUnwrap(vector["input"])
        let asOf = try XCTUnwrap(documentInstant(input["as_of"]?.stringValue))
        let engine = try Engine(documentJson: input.compact, limitsJson: nil)
        // cy is bronze; silver needs 10 referrals or 5,000.00 of revenue this period, and cy
        // has 200.00 of April revenue: 4,800.00 to go.
        let cy = try XCTUnwrap(try engine.progress(partner: "cy", asOf: asOf))
        XCTAssertEqual([cy.tier, cy.nextTier, cy.requires], ["bronze", "silver", "any"])
        XCTAssertEqual(cy.requirements.map { "\($0.metric) \($0.window) \($0.current) \($0.target) \($0.remaining)" },
                       ["referrals period 0 10 10", "revenue period \(dec("200.00")) \(dec("5000.00")) \(dec("4800.00"))"])
        // Every partner's progress says what the report's `progress` says.
        for p in vector["expect_report"]?["progress"]?.arrayValue ?? [] {
            let partner = try XCTUnwrap(p["partner"]?.stringValue)
            let got = try XCTUnwrap(try engine.progress(partner: partner, asOf: asOf))
            XCTAssertEqual(got.tier, p["tier"]?.stringValue, partner)
            XCTAssertEqual(got.nextTier, p["next_tier"]?.stringValue, partner)
            XCTAssertEqual(got.requirements.map { $0.remaining },
                           (p["requirements"]?.arrayValue ?? []).map { dec($0["remaining"]?.stringValue ?? "") }, partner)
        }
        XCTAssertEqual(failure { _ = try engine.progress(partner: "nobody", asOf: asOf) }?.code, .unknownPartner)
        XCTAssertNil(try started().progress(partner: "ana", asOf: feb1))
    }

    func testHostLimitsApplyToTheStartingDocument() throws {
        let e = failure { _ = try Engine(documentJson: smallInput, limitsJson: #"{"max_events": 1}"#) }
        XCTAssertEqual(e?.code, .limitExceeded)
        XCTAssertEqual(e?.path, "events")
        XCTAssertEqual(try Engine(documentJson: smallInput, limitsJson: #"{"max_events": 2}"#).eventsApplied(), 2)
        XCTAssertEqual(failure { _ = try Engine(documentJson: smallInput, limitsJson: #"{"max_evnts": 2}"#) }?.code, .unknownField)
        XCTAssertEqual(failure { _ = try evaluate(inputJson: smallInput, limitsJson: #"{"max_events": 1}"#) }?.code, .limitExceeded)
    }

    func testCostOfOneApply() throws {
        // A figure for the notes, never asserted (XCTest reports it).
        let engine = try Engine(documentJson: engineDoc)
        _ = try engine.apply(eventsJson: t1)
        var n = 0
        let base = documentInstant("2026-01-15T12:00:00Z")!
        let formatter = ISO8601DateFormatter()
        measure {
            for _ in 0..<100 {
                n += 1
                let at = formatter.string(from: base.addingTimeInterval(TimeInterval(n)))
                _ = try? engine.apply(eventsJson: #"{"id": "p\#(n)", "kind": "payment", "at": "\#(at)", "customer": "c1", "amount": "49.00", "currency": "USD"}"#)
            }
        }
    }
}
