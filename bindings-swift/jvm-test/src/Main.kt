// The JVM test of the Kotlin bindings (no Gradle or JUnit needed): every conformance vector
// through `evaluate`, byte for byte, with the typed records checked against the canonical
// JSON, and through the incremental `Engine` (EngineTests.kt); then errors, panics,
// decimals and instants across the boundary, and the Engine's own cases. Prints
// `N passed, N failed` and exits non-zero on any failure.
//
//   java -Djna.library.path=DIR_OF_LIBPARTNERKIT_FFI -cp test.jar:jna.jar \
//     MainKt REPO_ROOT

import dev.partnerkit.EntryKind
import dev.partnerkit.ErrorCode
import dev.partnerkit.PartnerKitException
import dev.partnerkit.Plan
import dev.partnerkit.Report
import dev.partnerkit.debugPanic
import dev.partnerkit.amountIn
import dev.partnerkit.evaluate
import dev.partnerkit.planJsonSchema
import dev.partnerkit.validatePlan
import dev.partnerkit.version
import java.io.File
import java.math.BigDecimal
import java.time.Instant
import kotlin.system.exitProcess

private var passed = 0
private var failed = 0

internal fun test(name: String, body: () -> Unit) {
    try {
        body()
        passed++
    } catch (t: Throwable) {
        failed++
        println("FAIL $name: ${t::class.simpleName}: ${t.message}")
    }
}

internal fun expect(ok: Boolean, what: () -> String) {
    if (!ok) throw AssertionError(what())
}

internal fun <T> expectEq(want: T, got: T, what: String) {
    expect(want == got) { "$what: expected <$want>, got <$got>" }
}

/** Runs `body`, which must throw a PartnerKitException.Failed, and returns it. */
internal fun failure(body: () -> Unit): PartnerKitException.Failed {
    try {
        body()
    } catch (e: PartnerKitException.Failed) {
        return e
    }
    throw AssertionError("expected a PartnerKitException, the call succeeded")
}

internal fun str(v: Json?): String? = when (v) {
    null, Json.Null -> null
    is Json.Str -> v.value
    else -> throw AssertionError("expected a string, found ${Json.compact(v)}")
}

internal fun obj(v: Json?): Json.Obj = v as? Json.Obj ?: throw AssertionError("expected an object")

internal fun arr(v: Json?): List<Json> = (v as? Json.Arr)?.items ?: throw AssertionError("expected an array")

/** The canonical snake_case name of a uniffi enum constant (`TRUE_UP` -> `true_up`). */
private fun snake(e: Enum<*>): String = e.name.lowercase()

fun main(args: Array<String>) {
    val root = File(args.firstOrNull() ?: ".").canonicalFile
    val vectors = File(root, "tests/vectors")
    val files = vectors.walkTopDown().filter { it.isFile && it.name.endsWith(".json") }.sortedBy { it.path }.toList()
    expect(files.size >= 40) { "expected at least 40 vectors under $vectors, found ${files.size}" }
    for (f in files) {
        test("vector ${f.relativeTo(vectors)}") { runVector(f) }
    }
    println("vectors: ${files.size} run through Kotlin")
    for (f in files) {
        test("engine vector ${f.relativeTo(vectors)}") { engineVector(f) }
    }
    println("vectors: ${files.size} run through the Kotlin Engine")
    apiTests(root)
    engineTests(root)
    println("$passed passed, $failed failed")
    exitProcess(if (failed == 0 && passed > 0) 0 else 1)
}

/** One vector, as core/tests/vectors.rs runs it, through the Kotlin API. */
private fun runVector(f: File) {
    val v = obj(Json.parse(f.readText()))
    val input = str(v["input_text"]) ?: Json.compact(v["input"] ?: throw AssertionError("no input"))
    // Host limits the vector is evaluated under (absent: the defaults).
    val limits = v["limits"]?.let { Json.compact(it) }
    val wantError = v["expect_error"]
    if (wantError != null) {
        val e = failure { evaluate(input, limits).close() }
        for ((k, want) in obj(wantError).members) {
            val got = when (k) {
                "code" -> e.code.toString()
                "path" -> e.path
                else -> throw AssertionError("expect_error.$k is not something an error has")
            }
            expectEq(str(want), got, "expect_error.$k")
        }
        return
    }
    val want = Json.compact(v["expect_report"] ?: throw AssertionError("no expect_report"))
    evaluate(input, limits).use { report ->
        val got = report.canonicalJson()
        expect(got.toByteArray(Charsets.UTF_8).contentEquals(want.toByteArray(Charsets.UTF_8))) {
            "canonical report differs from expect_report\n  want: $want\n  got:  $got"
        }
        checkRecords(report, obj(Json.parse(got)))
    }
}

/** The typed records say exactly what the canonical JSON says: same digits, same instants. */
private fun checkRecords(report: Report, doc: Json.Obj) {
    expectEq(str(doc["plan"]), report.planId(), "planId")
    expectEq(Instant.parse(str(doc["as_of"])), report.asOf(), "asOf")
    expectEq(Json.compact(doc["duplicates_ignored"]!!), report.duplicatesIgnored().toString(), "duplicatesIgnored")
    expectEq(arr(doc["unattributed"]).map { str(it) }, report.unattributed(), "unattributed")

    val entries = report.entries()
    val docEntries = arr(doc["entries"])
    expectEq(docEntries.size, entries.size, "entries")
    for ((e, j) in entries.zip(docEntries.map(::obj))) {
        val at = "entry ${e.id}"
        expectEq(str(j["id"]), e.id, "$at id")
        expectEq(str(j["partner"]), e.partner, "$at partner")
        expectEq(str(j["kind"]), snake(e.kind), "$at kind")
        expectEq(str(j["event"]), e.event, "$at event")
        expectEq(str(j["customer"]), e.customer, "$at customer")
        expectEq(str(j["rule"]), e.rule, "$at rule")
        expectEq(str(j["amount"]), e.amount.toPlainString(), "$at amount")
        expectEq(str(j["currency"]), e.currency, "$at currency")
        expectEq(str(j["status"]), snake(e.status), "$at status")
        expectEq(Instant.parse(str(j["earned_at"])), e.earnedAt, "$at earnedAt")
        expectEq(Instant.parse(str(j["available_at"])), e.availableAt, "$at availableAt")
    }

    val statements = report.statements()
    val docStatements = arr(doc["statements"])
    expectEq(docStatements.size, statements.size, "statements")
    for ((s, j) in statements.zip(docStatements.map(::obj))) {
        val at = "statement ${s.partner} ${s.period}"
        expectEq(str(j["partner"]), s.partner, "$at partner")
        expectEq(str(j["period"]), s.period, "$at period")
        expectEq(Instant.parse(str(j["start"])), s.start, "$at start")
        expectEq(Instant.parse(str(j["end"])), s.end, "$at end")
        expectEq(str(j["currency"]), s.currency, "$at currency")
        val money = listOf(
            "opening_balance" to s.openingBalance, "credits" to s.credits, "debits" to s.debits,
            "closing_balance" to s.closingBalance, "threshold" to s.threshold, "payout" to s.payout,
            "carried_forward" to s.carriedForward, "written_off" to s.writtenOff,
        )
        for ((k, x) in money) expectEq(str(j[k]), x.toPlainString(), "$at $k")
        expectEq(Json.compact(j["payable"]!!), s.payable.toString(), "$at payable")
        expectEq(str(j["due"]), s.due, "$at due")
        expectEq(str(j["status"]), snake(s.status), "$at status")
        val lines = arr(j["lines"]).map(::obj)
        expectEq(lines.size, s.lines.size, "$at lines")
        for ((l, jl) in s.lines.zip(lines)) {
            expectEq(str(jl["entry"]), l.entry, "$at line entry")
            expectEq(str(jl["amount"]), l.amount.toPlainString(), "$at line amount")
            expectEq(str(jl["currency"]), l.currency, "$at line currency")
            expectEq(str(jl["fx_date"]), l.fxDate, "$at line fxDate")
            expectEq(str(jl["converted"]), l.converted.toPlainString(), "$at line converted")
        }
    }

    // Balances: per partner and currency, the unpaid entries split by status.
    for (partner in docEntries.map { str(obj(it)["partner"])!! }.toSortedSet()) {
        val want = sortedMapOf<String, Pair<BigDecimal, BigDecimal>>()
        for (j in docEntries.map(::obj).filter { str(it["partner"]) == partner }) {
            val status = str(j["status"])
            if (status == "paid") continue
            val amount = BigDecimal(str(j["amount"]))
            val (p, a) = want[str(j["currency"])!!] ?: (amount.multiply(BigDecimal.ZERO) to amount.multiply(BigDecimal.ZERO))
            want[str(j["currency"])!!] = if (status == "pending") (p + amount to a) else (p to a + amount)
        }
        val got = report.balances(partner)
        expectEq(
            want.map { (c, pa) -> "$c ${pa.first.toPlainString()} ${pa.second.toPlainString()}" },
            got.map { "${it.currency} ${it.pending.toPlainString()} ${it.available.toPlainString()}" },
            "balances($partner)",
        )
    }
}

internal val SMALL_INPUT = """
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

private fun apiTests(root: File) {
    test("every error code has its stable name") {
        val names = listOf(
            "InvalidJson", "UnknownField", "MissingField", "InvalidValue", "UnknownCurrency",
            "UnknownPartner", "UnknownPayment", "RefundExceedsPayment", "ConflictingEvent",
            "CurrencyMismatch", "MissingFxRate", "CyclicParent", "LateEvent", "LimitExceeded",
            "InvalidSnapshot", "Internal",
        )
        expectEq(names, ErrorCode.entries.map { it.toString() }, "ErrorCode names")
    }

    test("bad input is a PartnerKitException with code, path and detail") {
        val e = failure { evaluate(SMALL_INPUT.replace("\"percent\": \"20\"", "\"percent\": \"150\"")) }
        expectEq(ErrorCode.INVALID_VALUE, e.code, "code")
        expectEq("plan.rules[0].reward.percent", e.path, "path")
        expect(e.detail.contains("150")) { "detail names the value: ${e.detail}" }
        expect(e.message.contains(e.detail)) { "message carries the detail: ${e.message}" }
    }

    test("malformed JSON is InvalidJson") {
        expectEq(ErrorCode.INVALID_JSON, failure { evaluate("{\"plan\": ") }.code, "code")
    }

    test("a panic in the core is an Internal error and the process lives on") {
        val e = failure { debugPanic("boom") }
        expectEq(ErrorCode.INTERNAL, e.code, "code")
        expect(e.detail.contains("boom")) { "detail carries the panic message: ${e.detail}" }
        evaluate(SMALL_INPUT).use { expectEq("affiliates", it.planId(), "planId after a panic") }
    }

    test("Plan.fromJson validates; validatePlan lists every problem") {
        val good = """{"schema": "partnerkit/plan@1", "id": "p", "currency": "EUR", "timezone": "Europe/Paris",
                       "rules": [{"id": "r", "reward": {"percent": "10"}}]}"""
        Plan.fromJson(good).use {
            expectEq("p", it.id(), "id")
            expectEq("EUR", it.currency(), "currency")
            expectEq("Europe/Paris", it.timezone(), "timezone")
        }
        expectEq(emptyList<Any>(), validatePlan(good), "issues of a valid plan")
        val bad = """{"schema": "partnerkit/plan@1", "id": "p", "currency": "EUR", "colour": "red",
                      "rules": [{"id": "r", "reward": {"percent": "150"}}]}"""
        val issues = validatePlan(bad)
        expectEq(
            listOf("UnknownField plan.colour", "InvalidValue plan.rules[0].reward.percent"),
            issues.map { "${it.code} ${it.path}" },
            "issues",
        )
        val e = failure { Plan.fromJson(bad).close() }
        expectEq(issues[0].code, e.code, "fromJson reports the first issue")
        expectEq(issues[0].path, e.path, "fromJson path")
    }

    test("decimals round trip exactly, scale kept") {
        for ((value, currency, want) in listOf(
            Triple("49.9", "USD", "49.90"),
            Triple("49.90", "USD", "49.90"),
            Triple("0", "USD", "0.00"),
            Triple("-12.345", "BHD", "-12.345"),
            Triple("1E+3", "JPY", "1000"),
            Triple("7.000", "JPY", "7"),
            Triple("0.0001", "CLF", "0.0001"),
            Triple("-999999999999999999.9999", "CLF", "-999999999999999999.9999"),
            Triple("1000000000000000000", "USD", "1000000000000000000.00"),
        )) {
            expectEq(want, amountIn(BigDecimal(value), currency).toPlainString(), "amountIn($value, $currency)")
        }
        // Every value of a seeded sample comes back equal, digit for digit.
        val rnd = java.util.Random(20260115)
        repeat(2000) {
            val x = BigDecimal.valueOf(rnd.nextLong() % 1_000_000_000_000_000L, 4)
            expectEq(x.toPlainString(), amountIn(x, "CLF").toPlainString(), "round trip of $x")
        }
    }

    test("decimals the core refuses are errors, not crashes") {
        val tooPrecise = failure { amountIn(BigDecimal("49.999"), "USD") }
        expectEq(ErrorCode.INVALID_VALUE to "amount", tooPrecise.code to tooPrecise.path, "49.999 USD")
        val unknown = failure { amountIn(BigDecimal("1"), "usd") }
        expectEq(ErrorCode.UNKNOWN_CURRENCY to "currency", unknown.code to unknown.path, "usd")
        val huge = failure { amountIn(BigDecimal("1000000000000000000.01"), "USD") }
        expectEq(ErrorCode.LIMIT_EXCEEDED to "amount", huge.code to huge.path, "beyond 10^18")
        // 29 significant digits cannot cross into rust_decimal at all: refused while lifting.
        val digits = failure { amountIn(BigDecimal("1.0000000000000000000000000001"), "USD") }
        expectEq(ErrorCode.LIMIT_EXCEEDED, digits.code, "29 significant digits")
    }

    test("typed records: amounts as BigDecimal with the currency's digits, instants as Instant") {
        evaluate(SMALL_INPUT).use { r ->
            val e = r.entries().single()
            expectEq(EntryKind.COMMISSION, e.kind, "kind")
            expectEq(BigDecimal("9.80"), e.amount, "amount (scale 2)")
            expectEq(Instant.parse("2026-01-15T12:00:00Z"), e.earnedAt, "earnedAt")
            expectEq(Instant.parse("2026-02-14T12:00:00Z"), e.availableAt, "availableAt (30-day hold)")
            val b = r.balances("ana").single()
            expectEq("USD 9.80 0.00", "${b.currency} ${b.pending.toPlainString()} ${b.available.toPlainString()}", "balance")
            expectEq(emptyList<Any>(), r.balances("nobody"), "balances of an unknown partner")
            expect(r.prettyJson().contains("\n  \"entries\"")) { "pretty JSON is indented" }
        }
    }

    test("schema and version") {
        expect(planJsonSchema().contains("\"rules\"")) { "the plan schema describes rules" }
        val cargo = File(root, "Cargo.toml").readText()
        expect(cargo.contains("version = \"${version()}\"")) { "version ${version()} is the workspace's" }
    }

    test("README example runs as written") {
        expectEq("commission 9.80 USD, pending 9.80", earnings(SMALL_INPUT), "earnings")
        val bad = SMALL_INPUT.replace("\"percent\": \"20\"", "\"percent\": \"150\"")
        expect(earnings(bad).startsWith("InvalidValue at plan.rules[0].reward.percent: ")) { earnings(bad) }
    }

    test("cost of one evaluate of a small document") {
        perCall { evaluate(SMALL_INPUT).use { it.canonicalJson() } }
        println("timing: one evaluate of a small document from Kotlin: " + perCall { evaluate(SMALL_INPUT).close() })
        println("timing:   with canonicalJson(): " + perCall { evaluate(SMALL_INPUT).use { it.canonicalJson() } })
        println("timing:   with entries() and balances(): " + perCall { evaluate(SMALL_INPUT).use { it.entries(); it.balances("ana") } })
        println("timing:   amountIn() (one call across and back): " + perCall { amountIn(BigDecimal("49.9"), "USD") })
    }
}

/**
 * A figure for the notes, never asserted: `body` run for about a second of CPU. The machine
 * may be shared, so the figure is this thread's CPU time per call (the Rust side runs on the
 * calling thread), with the wall time beside it.
 */
internal fun perCall(body: () -> Unit): String {
    val threads = java.lang.management.ManagementFactory.getThreadMXBean()
    val cpu0 = threads.currentThreadCpuTime
    val wall0 = System.nanoTime()
    var n = 0
    while (threads.currentThreadCpuTime - cpu0 < 1_000_000_000L || n < 10) {
        body()
        n++
    }
    val cpu = (threads.currentThreadCpuTime - cpu0) / 1e3 / n
    val wall = (System.nanoTime() - wall0) / 1e3 / n
    return "%.1f us CPU (%.1f us wall, %d calls)".format(cpu, wall, n)
}
