import dev.partnerkit.PartnerKitException
import dev.partnerkit.evaluate

fun earnings(inputJson: String): String = try {
    evaluate(inputJson).use { report ->                // a handle on the core's report
        val first = report.entries().first()           // typed: kind, amount (BigDecimal), earnedAt (Instant)
        val ana = report.balances("ana").single()      // pending and available, per currency
        "${first.kind.name.lowercase()} ${first.amount} ${first.currency}, pending ${ana.pending}"
    }
} catch (e: PartnerKitException.Failed) {              // code, path, detail
    "${e.code} at ${e.path}: ${e.detail}"
}
