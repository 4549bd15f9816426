// The incremental Engine through Kotlin: every conformance vector fed to it three ways
// (the whole document; the document without its events, then its events one at a time in
// canonical order with a snapshot and restore half-way; the events as one array), each
// compared byte for byte with `expect_report`; then late, redelivered and conflicting
// events, snapshots, partners and FX rates between events, host limits, and the cost of one
// `apply`. Helpers (`test`, `expectEq`, `failure`, …) are Main.kt's.

import dev.partnerkit.Engine
import dev.partnerkit.EntryKind
import dev.partnerkit.EntryStatus
import dev.partnerkit.ErrorCode
import dev.partnerkit.PartnerKitException
import dev.partnerkit.Report
import dev.partnerkit.evaluate
import java.io.File
import java.math.BigDecimal
import java.time.Instant
import java.time.OffsetDateTime

/** Canonical order of kinds at the same instant (SPEC §12). */
private val KIND_RANK = listOf("touch", "assign", "signup", "payment", "refund", "chargeback", "adjustment")

private fun instantOf(text: String?): Instant =
    OffsetDateTime.parse(text ?: throw AssertionError("no instant")).toInstant()

private fun sameBytes(want: String, report: Report, how: String) = report.use {
    val got = it.canonicalJson()
    expect(got.toByteArray(Charsets.UTF_8).contentEquals(want.toByteArray(Charsets.UTF_8))) {
        "$how: canonical report differs from expect_report\n  want: $want\n  got:  $got"
    }
}

/** The error says what `expect_error` says (`code`, `path`). */
internal fun checkError(want: Json.Obj, e: PartnerKitException.Failed) {
    for ((k, w) in want.members) {
        val got = when (k) {
            "code" -> e.code.toString()
            "path" -> e.path
            else -> throw AssertionError("expect_error.$k is not something an error has")
        }
        expectEq(str(w), got, "expect_error.$k")
    }
}

/** One vector through the Engine. */
internal fun engineVector(f: File) {
    val v = obj(Json.parse(f.readText()))
    val limits = v["limits"]?.let { Json.compact(it) }
    val input = v["input"] as? Json.Obj
    val text = str(v["input_text"]) ?: Json.compact(input ?: throw AssertionError("no input"))
    val asOf = input?.let { str(it["as_of"]) }?.let(::instantOf)
    val wantError = v["expect_error"]
    if (wantError != null) {
        // The whole document fails as `evaluate` fails, when the engine is built or when it
        // reports.
        val e = failure {
            Engine(text, limits).use { it.report(asOf ?: throw AssertionError("no as_of")).close() }
        }
        checkError(obj(wantError), e)
        return
    }
    val want = Json.compact(v["expect_report"] ?: throw AssertionError("no expect_report"))
    input ?: throw AssertionError("no input")
    asOf ?: throw AssertionError("no as_of")

    // 1. The whole document.
    Engine(text, limits).use { sameBytes(want, it.report(asOf), "whole document") }

    // 2. The document without its events; then the events up to as_of (those evaluation
    // takes) one at a time in canonical order (at, kind, id), each call's entries checked
    // against the report as of its event, with a snapshot and restore half-way.
    val start = Json.compact(Json.Obj(input.members.filter { it.first != "events" && it.first != "as_of" }))
    val events = (input["events"]?.let(::arr) ?: emptyList()).map(::obj)
        .filter { !instantOf(str(it["at"])).isAfter(asOf) }
    val ordered = events.sortedWith(
        compareBy<Json.Obj>({ instantOf(str(it["at"])) }, { KIND_RANK.indexOf(str(it["kind"])) }, { str(it["id"]) }),
    )
    var engine = Engine(start, limits)
    try {
        for ((k, ev) in ordered.withIndex()) {
            if (k == ordered.size / 2) {
                val bytes = engine.snapshot()
                val back = Engine.restore(bytes, limits)
                expect(back.snapshot().contentEquals(bytes)) { "a restored engine snapshots to the same bytes" }
                expectEq(engine.eventsApplied(), back.eventsApplied(), "eventsApplied after restore")
                engine.close()
                engine = back
            }
            val written = engine.apply(Json.compact(ev))
            if (written.isNotEmpty()) {
                val ids = written.map { it.id }.toSet()
                engine.report(instantOf(str(ev["at"]))).use { r ->
                    expectEq(r.entries().filter { it.id in ids }, written, "entries written by ${str(ev["id"])}")
                }
            }
        }
        sameBytes(want, engine.report(asOf), "one at a time")
    } finally {
        engine.close()
    }

    // 3. The events as one array, in the document's order (the engine sorts a batch).
    Engine(start, limits).use {
        it.apply(Json.compact(Json.Arr(events)))
        sameBytes(want, it.report(asOf), "one array")
    }
}

private val ENGINE_DOC = """
{
  "plan": {"schema": "partnerkit/plan@1", "id": "affiliates", "currency": "USD",
           "rules": [{"id": "first-year", "when": {"within_months": 12}, "reward": {"percent": "20"}}]},
  "partners": [{"id": "ana"}]
}
"""
private const val T1 =
    """{"id": "t1", "kind": "touch", "at": "2026-01-10T09:00:00Z", "partner": "ana", "customer": "c1", "channel": "link"}"""
private const val P1 =
    """{"id": "p1", "kind": "payment", "at": "2026-01-15T12:00:00Z", "customer": "c1", "amount": "49.00", "currency": "USD"}"""
private val FEB_1: Instant = Instant.parse("2026-02-01T00:00:00Z")

/** An engine with t1 and p1 applied: SMALL_INPUT's document, fed to an engine. */
private fun started(): Engine = Engine(ENGINE_DOC).also {
    it.apply(T1)
    it.apply(P1)
}

private fun balanceText(e: Engine, partner: String, asOf: Instant): List<String> =
    e.balances(partner, asOf).map {
        "${it.currency} ${it.pending.toPlainString()} ${it.available.toPlainString()} ${it.paid.toPlainString()}"
    }

internal fun engineTests(root: File) {
    test("Engine: apply returns typed entries; the report is evaluate's, byte for byte") {
        Engine(ENGINE_DOC).use { e ->
            expectEq(emptyList<Any>(), e.apply(T1), "a touch writes no entry")
            // 49.00 USD at 20% = 9.80, held 30 days: available from 2026-02-14T12:00:00Z.
            val written = e.apply(P1).single()
            expectEq("commission:p1:first-year:ana", written.id, "id")
            expectEq(EntryKind.COMMISSION, written.kind, "kind")
            expectEq(BigDecimal("9.80"), written.amount, "amount (scale 2)")
            expectEq(EntryStatus.PENDING, written.status, "status as of the payment")
            expectEq(Instant.parse("2026-01-15T12:00:00Z"), written.earnedAt, "earnedAt")
            expectEq(Instant.parse("2026-02-14T12:00:00Z"), written.availableAt, "availableAt")
            expectEq(2uL, e.eventsApplied(), "eventsApplied")
            val want = evaluate(SMALL_INPUT).use { it.canonicalJson() }
            expectEq(want, e.report(FEB_1).use { it.canonicalJson() }, "report as of 2026-02-01")
            expectEq(listOf("USD 9.80 0.00 0.00"), balanceText(e, "ana", FEB_1), "balance as of 2026-02-01")
            val feb20 = Instant.parse("2026-02-20T00:00:00Z")
            expectEq(listOf("USD 0.00 9.80 0.00"), balanceText(e, "ana", feb20), "balance past the hold")
            // Instants keep their fraction of a second across the boundary.
            val odd = Instant.parse("2026-02-01T00:00:00.250Z")
            expectEq(odd, e.report(odd).use { it.asOf() }, "report asOf with milliseconds")
        }
    }

    test("Engine: applyJson returns the core's canonical entries") {
        Engine(ENGINE_DOC).use { e ->
            e.apply(T1)
            val text = e.applyJson(P1)
            expect(text.startsWith("[{\"id\":\"commission:p1:first-year:ana\",")) { text }
            expect(text.contains("\"amount\":\"9.80\",\"currency\":\"USD\",\"status\":\"pending\"")) { text }
        }
    }

    test("Engine: an event before the last applied one is LateEvent, and changes nothing") {
        started().use { e ->
            val early = """{"id": "t0", "kind": "touch", "at": "2026-01-12T00:00:00Z", "partner": "ana", "customer": "c2", "channel": "link"}"""
            val x = failure { e.apply(early) }
            expectEq(ErrorCode.LATE_EVENT to "events[0]", x.code to x.path, "late event")
            expectEq(2uL, e.eventsApplied(), "eventsApplied")
        }
    }

    test("Engine: a redelivered event is a no-op, counted in duplicatesIgnored") {
        started().use { e ->
            expectEq(emptyList<Any>(), e.apply(P1), "a redelivery writes nothing")
            expectEq(2uL, e.eventsApplied(), "eventsApplied")
            expectEq(1uL, e.report(FEB_1).use { it.duplicatesIgnored() }, "duplicatesIgnored")
            expectEq(listOf("USD 9.80 0.00 0.00"), balanceText(e, "ana", FEB_1), "balance unchanged")
        }
    }

    test("Engine: the same id with other content is ConflictingEvent") {
        started().use { e ->
            val x = failure { e.apply(P1.replace("49.00", "50.00")) }
            expectEq(ErrorCode.CONFLICTING_EVENT to "events[0]", x.code to x.path, "conflict")
            expectEq(listOf("USD 9.80 0.00 0.00"), balanceText(e, "ana", FEB_1), "balance unchanged")
        }
    }

    test("Engine: an array is applied all or nothing") {
        started().use { e ->
            val p2 = """{"id": "p2", "kind": "payment", "at": "2026-01-20T00:00:00Z", "customer": "c1", "amount": "10.00", "currency": "USD"}"""
            val bad = """{"id": "p3", "kind": "payment", "at": "2026-01-21T00:00:00Z", "customer": "c1", "amount": "-1.00", "currency": "USD"}"""
            val x = failure { e.apply("[$p2, $bad]") }
            expectEq("events[1].amount", x.path, "path names the place in the array")
            expectEq(2uL, e.eventsApplied(), "nothing of the array was applied")
        }
    }

    test("Engine: snapshot and restore give the same engine") {
        started().use { e ->
            val bytes = e.snapshot()
            Engine.restore(bytes).use { back ->
                expect(back.snapshot().contentEquals(bytes)) { "the same bytes again" }
                expectEq(2uL, back.eventsApplied(), "eventsApplied")
                val p2 = """{"id": "p2", "kind": "payment", "at": "2026-01-20T00:00:00Z", "customer": "c1", "amount": "10.00", "currency": "USD"}"""
                // 10.00 at 20% = 2.00 on both.
                expectEq(e.apply(p2), back.apply(p2), "the next event writes the same entries")
                expectEq(BigDecimal("2.00"), back.report(FEB_1).use { it.entries().last().amount }, "p2's commission")
                expectEq(
                    e.report(FEB_1).use { it.canonicalJson() },
                    back.report(FEB_1).use { it.canonicalJson() },
                    "the same report",
                )
            }
        }
    }

    test("Engine: bytes that are not a snapshot are InvalidSnapshot") {
        val good = started().use { it.snapshot() }
        for ((name, bytes) in listOf(
            "empty" to ByteArray(0),
            "garbage" to "not a snapshot".toByteArray(),
            "truncated" to good.copyOf(good.size - 1),
            "flipped" to good.copyOf().also { it[it.size / 2] = (it[it.size / 2].toInt() xor 1).toByte() },
        )) {
            expectEq(ErrorCode.INVALID_SNAPSHOT, failure { Engine.restore(bytes).close() }.code, name)
        }
    }

    test("Engine: partners and FX rates between events") {
        started().use { e ->
            e.upsertPartner("""{"id": "bo"}""")
            e.apply("""{"id": "t2", "kind": "touch", "at": "2026-01-16T00:00:00Z", "partner": "bo", "customer": "c2", "channel": "link"}""")
            // 25.00 at 20% = 5.00 for bo.
            val w = e.apply("""{"id": "p2", "kind": "payment", "at": "2026-01-17T00:00:00Z", "customer": "c2", "amount": "25.00", "currency": "USD"}""")
            expectEq(listOf("bo 5.00"), w.map { "${it.partner} ${it.amount.toPlainString()}" }, "bo's commission")
            expectEq(listOf("USD 5.00 0.00 0.00"), balanceText(e, "bo", FEB_1), "bo's balance")
            e.addFx("""{"date": "2026-01-20", "from": "EUR", "to": "USD", "rate": "1.10"}""")
            val late = failure { e.addFx("""{"date": "2026-01-01", "from": "EUR", "to": "USD", "rate": "1.10"}""") }
            expectEq(ErrorCode.LATE_EVENT, late.code, "a rate dated before the last event")
            val unknown = failure { e.balances("nobody", FEB_1) }
            expectEq(ErrorCode.UNKNOWN_PARTNER to "partner", unknown.code to unknown.path, "unknown partner")
        }
    }

    test("Engine: a partner's tier progress, as in the report; null without tiers") {
        val v = obj(Json.parse(File(root, "tests/vectors/tiers/bronze_silver_gold.json").readText()))
        val input = obj(v["input"])
        val asOf = instantOf(str(input["as_of"]))
        Engine(Json.compact(input), null).use { e ->
            // cy is bronze; silver needs 10 referrals or 5,000.00 of revenue this period, and
            // cy has 200.00 of April revenue: 4,800.00 to go.
            val cy = e.progress("cy", asOf) ?: throw AssertionError("cy has progress")
            expectEq(listOf("bronze", "silver", "any"), listOf(cy.tier, cy.nextTier, cy.requires), "cy's tiers")
            val r = cy.requirements.map {
                "${it.metric} ${it.window} ${it.current.toPlainString()} ${it.target.toPlainString()} ${it.remaining.toPlainString()}"
            }
            expectEq(listOf("referrals period 0 10 10", "revenue period 200.00 5000.00 4800.00"), r, "cy's requirements")
            // Every partner's progress says what the report's `progress` says.
            for (p in arr(obj(v["expect_report"])["progress"]).map(::obj)) {
                val got = e.progress(str(p["partner"])!!, asOf) ?: throw AssertionError("progress of ${p["partner"]}")
                expectEq(str(p["tier"]), got.tier, "tier of ${p["partner"]}")
                expectEq(str(p["next_tier"]), got.nextTier, "next tier of ${p["partner"]}")
                val want = arr(p["requirements"]).map(::obj).map { str(it["remaining"]) }
                expectEq(want, got.requirements.map { it.remaining.toPlainString() }, "remaining of ${p["partner"]}")
            }
            val unknown = failure { e.progress("nobody", asOf) }
            expectEq(ErrorCode.UNKNOWN_PARTNER to "partner", unknown.code to unknown.path, "unknown partner")
        }
        started().use { e -> expectEq(null, e.progress("ana", FEB_1), "a plan without tiers") }
    }

    test("Engine: host limits apply to the starting document; bad limits are errors") {
        val doc = SMALL_INPUT
        val x = failure { Engine(doc, """{"max_events": 1}""").close() }
        expectEq(ErrorCode.LIMIT_EXCEEDED to "events", x.code to x.path, "max_events 1")
        Engine(doc, """{"max_events": 2}""").use { expectEq(2uL, it.eventsApplied(), "at the limit") }
        val typo = failure { Engine(doc, """{"max_evnts": 2}""").close() }
        expectEq(ErrorCode.UNKNOWN_FIELD, typo.code, "a misspelt limit")
        val e = failure { evaluate(doc, """{"max_events": 1}""").close() }
        expectEq(ErrorCode.LIMIT_EXCEEDED to "events", e.code to e.path, "evaluate under limits")
    }

    test("cost of one Engine.apply") {
        Engine(ENGINE_DOC).use { e ->
            e.apply(T1)
            var n = 0L
            val base = Instant.parse("2026-01-15T12:00:00Z").epochSecond
            fun payment(): String {
                n++
                return """{"id": "p$n", "kind": "payment", "at": "${Instant.ofEpochSecond(base + n)}", "customer": "c1", "amount": "49.00", "currency": "USD"}"""
            }
            perCall { e.apply(payment()) }
            println("timing: one Engine.apply of a payment (one entry written) from Kotlin: " + perCall { e.apply(payment()) })
            println("timing:   applyJson (canonical entries as text): " + perCall { e.applyJson(payment()) })
            println("timing:   (the engine's log after these runs: ${e.eventsApplied()} events)")
        }
        // A balance costs one pass over the ledger: measured on the two-event engine.
        started().use { e -> println("timing:   balances(partner, asOf) of a two-event engine: " + perCall { e.balances("ana", FEB_1) }) }
    }
}
