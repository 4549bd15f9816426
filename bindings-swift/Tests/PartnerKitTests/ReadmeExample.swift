import PartnerKit

func earnings(inputJson: String) -> String {
    do {
        let report = try evaluate(inputJson: inputJson)    // a handle on the core's report
        let first = try report.entries()[0]                // typed: kind, amount (Decimal), earnedAt (Date)
        let ana = try report.balances(partner: "ana")[0]   // pending and available, per currency
        return "\(first.kind) \(first.amount) \(first.currency), pending \(ana.pending)"
    } catch PartnerKitError.Failed(let code, let path, let message) {
        return "\(code) at \(path): \(message)"            // e.g. InvalidValue at plan.rules[0].reward.percent
    } catch {
        return "\(error)"
    }
}
