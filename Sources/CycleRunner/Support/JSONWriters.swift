import Invoicing

// The JSON writers of the types the ledger and the statements encode by the ten thousand (see
// `JSONWritable`). Each writes its members in the key order of its `CodingKeys`, and leaves
// out a nil optional as synthesized `Codable` does; `DirectJSONTests` compares each with
// Foundation's bytes.

extension OrgID: JSONWritable, JSONKey {}
extension PlanID: JSONWritable, JSONKey {}
extension PackID: JSONWritable, JSONKey {}
extension PurchaseID: JSONWritable, JSONKey {}

extension StringIdentifier {
    func writeJSON(to out: inout JSONOut) { out.string(rawValue) }
    var jsonKey: String { rawValue }
}

extension PurchaseStatus: JSONWritable {
    func writeJSON(to out: inout JSONOut) { out.string(rawValue) }
}

extension BankLot: JSONWritable {
    func writeJSON(to out: inout JSONOut) {
        out.beginObject()
        out.member("amount", amount)
        out.member("bankedOn", bankedOn)
        out.endObject()
    }
}

extension TopUpLot: JSONWritable {
    func writeJSON(to out: inout JSONOut) {
        out.beginObject()
        out.member("amount", amount)
        out.member("expiresAt", ifPresent: expiresAt)
        out.member("packId", packId)
        out.member("priceMinor", priceMinor)
        out.member("purchaseId", purchaseId)
        out.member("purchasedAt", purchasedAt)
        out.endObject()
    }
}

extension ActionUsage: JSONWritable {
    func writeJSON(to out: inout JSONOut) {
        out.beginObject()
        out.member("credits", credits)
        out.member("events", events)
        out.endObject()
    }
}

extension NotableEvent: JSONWritable {
    func writeJSON(to out: inout JSONOut) {
        out.beginObject()
        out.member("action", action)
        out.member("credits", credits)
        out.member("eventId", eventId)
        out.member("late", late)
        out.member("occurredAt", occurredAt)
        out.member("user", user)
        out.endObject()
    }
}

extension ProrationCharge: JSONWritable {
    func writeJSON(to out: inout JSONOut) {
        out.beginObject()
        out.member("amountMinor", amountMinor)
        out.member("at", at)
        out.member("credits", credits)
        out.member("fromPlan", fromPlan)
        out.member("toPlan", toPlan)
        out.endObject()
    }
}

extension PeriodAccumulator: JSONWritable {
    func writeJSON(to out: inout JSONOut) {
        out.beginObject()
        out.member("creditsWithoutPermission", creditsWithoutPermission)
        out.member("deficitRepaid", deficitRepaid)
        out.member("end", end)
        out.member("eventsByUnknownMembers", eventsByUnknownMembers)
        out.member("eventsWithoutPermission", eventsWithoutPermission)
        out.member("expiredTopUp", expiredTopUp)
        out.member("fromBank", fromBank)
        out.member("fromCurrent", fromCurrent)
        out.member("fromTopUp", fromTopUp)
        out.member("lateEvents", lateEvents)
        out.member("mostExpensive", mostExpensive)
        out.member("openingBank", openingBank)
        out.member("openingCurrent", openingCurrent)
        out.member("openingDeficit", openingDeficit)
        out.member("openingTopUp", openingTopUp)
        out.member("overdraft", overdraft)
        out.member("prorationCredits", prorationCredits)
        out.member("prorations", prorations)
        out.member("refundedCredits", refundedCredits)
        out.member("start", start)
        out.member("topUpCredits", topUpCredits)
        out.member("usageByAction", usageByAction)
        out.member("usageCredits", usageCredits)
        out.member("usageEvents", usageEvents)
        out.endObject()
    }
}

extension OrgState: JSONWritable {
    func writeJSON(to out: inout JSONOut) {
        out.beginObject()
        out.member("bank", bank)
        out.member("current", current)
        out.member("deficit", deficit)
        out.member("orgId", orgId)
        out.member("pendingPlan", ifPresent: pendingPlan)
        out.member("period", ifPresent: period)
        out.member("periodIndex", periodIndex)
        out.member("plan", plan)
        out.member("purchases", purchases)
        out.member("startDate", startDate)
        out.member("started", started)
        out.member("topUps", topUps)
        out.endObject()
    }
}

extension PeriodRecord: JSONWritable {
    func writeJSON(to out: inout JSONOut) {
        out.beginObject()
        out.member("bankLotsAfter", bankLotsAfter)
        out.member("closingBank", closingBank)
        out.member("closingCurrent", closingCurrent)
        out.member("closingDeficit", closingDeficit)
        out.member("closingTopUp", closingTopUp)
        out.member("creditsWithoutPermission", creditsWithoutPermission)
        out.member("deficitRepaid", deficitRepaid)
        out.member("deficitSettled", deficitSettled)
        out.member("eventsByUnknownMembers", eventsByUnknownMembers)
        out.member("eventsWithoutPermission", eventsWithoutPermission)
        out.member("expiredAge", expiredAge)
        out.member("expiredCap", expiredCap)
        out.member("expiredTopUp", expiredTopUp)
        out.member("freshCredits", freshCredits)
        out.member("fromBank", fromBank)
        out.member("fromCurrent", fromCurrent)
        out.member("fromTopUp", fromTopUp)
        out.member("lateEvents", lateEvents)
        out.member("monthlyCreditsNext", monthlyCreditsNext)
        out.member("mostExpensive", mostExpensive)
        out.member("nextBank", nextBank)
        out.member("nextCurrent", nextCurrent)
        out.member("nextDeficit", nextDeficit)
        out.member("nextTopUp", nextTopUp)
        out.member("openingBank", openingBank)
        out.member("openingCurrent", openingCurrent)
        out.member("openingDeficit", openingDeficit)
        out.member("openingTopUp", openingTopUp)
        out.member("orgId", orgId)
        out.member("overageBilled", overageBilled)
        out.member("overdraft", overdraft)
        out.member("periodEnd", periodEnd)
        out.member("periodStart", periodStart)
        out.member("planId", planId)
        out.member("planName", planName)
        out.member("prorationCredits", prorationCredits)
        out.member("refundedCredits", refundedCredits)
        out.member("rolledOver", rolledOver)
        out.member("topUpCredits", topUpCredits)
        out.member("topUpLotsAfter", topUpLotsAfter)
        out.member("usageByAction", usageByAction)
        out.member("usageCredits", usageCredits)
        out.member("usageEvents", usageEvents)
        out.endObject()
    }
}

extension Statement.InvoiceRef: JSONWritable {
    func writeJSON(to out: inout JSONOut) {
        out.beginObject()
        out.member("currency", currency)
        out.member("issueDate", issueDate)
        out.member("kind", kind)
        out.member("net", net)
        out.member("number", number)
        out.member("tax", tax)
        out.member("total", total)
        out.member("totalMinor", totalMinor)
        out.endObject()
    }
}

extension Statement.Flags: JSONWritable {
    func writeJSON(to out: inout JSONOut) {
        out.beginObject()
        out.member("bankBelowBuffer", bankBelowBuffer)
        out.member("bankBufferCredits", bankBufferCredits)
        out.member("creditsWithoutPermission", creditsWithoutPermission)
        out.member("eventsByUnknownMembers", eventsByUnknownMembers)
        out.member("eventsWithoutPermission", eventsWithoutPermission)
        out.member("overdraft", overdraft)
        out.endObject()
    }
}

extension Statement.ActionLine: JSONWritable {
    func writeJSON(to out: inout JSONOut) {
        out.beginObject()
        out.member("action", action)
        out.member("credits", credits)
        out.member("events", events)
        out.member("label", label)
        out.endObject()
    }
}

extension Statement.BankLotLine: JSONWritable {
    func writeJSON(to out: inout JSONOut) {
        out.beginObject()
        out.member("amount", amount)
        out.member("bankedOn", bankedOn)
        out.member("expiresOn", ifPresent: expiresOn)
        out.endObject()
    }
}

extension Statement: JSONWritable {
    func writeJSON(to out: inout JSONOut) {
        out.beginObject()
        out.member("bankLots", bankLots)
        out.member("flags", flags)
        out.member("forecast", forecast)
        out.member("invoices", invoices)
        out.member("monthlyCredits", monthlyCredits)
        out.member("mostExpensiveEvents", mostExpensiveEvents)
        out.member("nextRenewal", nextRenewal)
        out.member("orgId", orgId)
        out.member("orgName", orgName)
        out.member("periodEnd", periodEnd)
        out.member("periodStart", periodStart)
        out.member("plan", plan)
        out.member("planName", planName)
        out.key("summary")
        out.object(summary, usualKeys: Statement.summaryKeysInKeyOrder)
        out.member("topUpLots", topUpLots)
        out.member("usageByAction", usageByAction)
        out.endObject()
    }
}

extension Forecast.QueuedLine: JSONWritable {
    func writeJSON(to out: inout JSONOut) {
        out.beginObject()
        out.member("action", action)
        out.member("credits", credits)
        out.member("jobId", jobId)
        out.member("label", label)
        out.endObject()
    }
}

extension Forecast.Queue: JSONWritable {
    func writeJSON(to out: inout JSONOut) {
        out.beginObject()
        out.member("asOf", asOf)
        out.member("balance", balance)
        out.member("balanceAfter", balanceAfter)
        out.member("covered", covered)
        out.member("credits", credits)
        out.member("jobs", jobs)
        out.member("runOutDateAfter", ifPresent: runOutDateAfter)
        out.member("shortfall", shortfall)
        out.endObject()
    }
}

extension Forecast: JSONWritable {
    func writeJSON(to out: inout JSONOut) {
        out.beginObject()
        out.member("balance", balance)
        out.member("burnPerDayTenths", burnPerDayTenths)
        out.member("daysLeft", ifPresent: daysLeft)
        out.member("nextRenewal", nextRenewal)
        out.member("queue", ifPresent: queue)
        out.member("runOutDate", ifPresent: runOutDate)
        out.member("trailingDays", trailingDays)
        out.member("trailingPeriods", trailingPeriods)
        out.member("trailingUsage", trailingUsage)
        out.endObject()
    }
}

// The ledger's documents (`Invoicing`'s types, whose keys are the names of their properties).

extension Document: JSONWritable {
    // `self.` throughout: a document's fields are reached through its dynamic-member subscript,
    // which a name without `self.` does not look through.
    func writeJSON(to out: inout JSONOut) {
        out.beginObject()
        out.member("buyer", self.buyer)
        out.member("buyerReference", ifPresent: self.buyerReference)
        out.member("currencyCode", self.currencyCode)
        out.member("dueDate", self.dueDate)
        out.member("isDraft", self.isDraft)
        out.member("issueDate", self.issueDate)
        out.member("issueInstant", self.issueInstant)
        out.member("kind", self.kind.rawValue)
        out.member("lines", self.lines)
        out.member("number", self.number)
        out.member("orgId", self.orgId)
        out.member("payment", self.payment)
        out.member("periodEnd", ifPresent: self.periodEnd)
        out.member("periodStart", ifPresent: self.periodStart)
        out.member("referencedNumber", ifPresent: self.referencedNumber)
        out.member("referencedSourceId", ifPresent: self.referencedSourceId)
        out.member("seller", self.seller)
        out.member("source", self.source.rawValue)
        out.member("sourceId", self.sourceId)
        out.member("tax", self.tax)
        out.endObject()
    }
}

extension Party: JSONWritable {
    func writeJSON(to out: inout JSONOut) {
        out.beginObject()
        out.member("city", city)
        out.member("countryCode", countryCode)
        out.member("endpointId", ifPresent: endpointId)
        out.member("name", name)
        out.member("postalCode", postalCode)
        out.member("street", street)
        out.member("vatId", ifPresent: vatId)
        out.endObject()
    }
}

extension PaymentDetails: JSONWritable {
    func writeJSON(to out: inout JSONOut) {
        out.beginObject()
        out.member("iban", ifPresent: iban)
        out.member("paymentTermsDays", paymentTermsDays)
        out.endObject()
    }
}

extension TaxTreatment: JSONWritable {
    func writeJSON(to out: inout JSONOut) {
        out.beginObject()
        out.member("categoryCode", categoryCode)
        out.member("rateHundredths", rateHundredths)
        out.endObject()
    }
}

extension DocumentLine: JSONWritable {
    func writeJSON(to out: inout JSONOut) {
        out.beginObject()
        out.member("amountMinor", amountMinor)
        out.member("itemName", itemName)
        out.member("kind", kind.rawValue)
        out.member("note", ifPresent: note)
        out.member("periodEnd", ifPresent: periodEnd)
        out.member("periodStart", ifPresent: periodStart)
        out.member("quantity", quantity)
        out.member("unitPrice", unitPrice)
        out.endObject()
    }
}

extension UnitPrice: JSONWritable {
    func writeJSON(to out: inout JSONOut) {
        out.beginObject()
        out.member("scaledAmount", scaledAmount)
        out.endObject()
    }
}

extension CustomTerms: JSONWritable {
    func writeJSON(to out: inout JSONOut) {
        out.beginObject()
        out.member("bankCap", bankCap)
        out.member("monthlyCredits", monthlyCredits)
        out.member("priceMinor", priceMinor)
        out.endObject()
    }
}

extension OrgProfile: JSONWritable {
    func writeJSON(to out: inout JSONOut) {
        out.beginObject()
        out.member("buyerReference", ifPresent: buyerReference)
        out.member("city", city)
        out.member("countryCode", countryCode)
        out.member("currencyCode", currencyCode)
        out.member("customTerms", ifPresent: customTerms)
        out.member("endpointId", ifPresent: endpointId)
        out.member("firstPlanId", firstPlanId)
        out.member("id", id)
        out.member("name", name)
        out.member("postalCode", postalCode)
        out.member("startDate", startDate)
        out.member("street", street)
        out.member("tax", tax)
        out.member("vatId", ifPresent: vatId)
        out.endObject()
    }
}
