import Invoicing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// SplitMix64: a tiny deterministic generator, so a seed gives the same folder everywhere.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
    public mutating func chance(_ percent: Int) -> Bool { int(0...99) < percent }
}

/// Options of `cycle-runner generate`.
public struct GeneratorOptions: Sendable {
    public var orgs: Int
    public var months: Int
    /// Usage events per org and month, on average.
    public var eventsPerOrgMonth: Int
    public var seed: UInt64
    public var firstMonth: CivilDate
    /// Share of duplicate, conflicting and malformed usage rows, in percent.
    public var dirtyPercent: Int

    public init(
        orgs: Int, months: Int, eventsPerOrgMonth: Int, seed: UInt64,
        firstMonth: CivilDate = CivilDate(year: 2026, month: 1, day: 1), dirtyPercent: Int = 0
    ) {
        self.orgs = orgs
        self.months = months
        self.eventsPerOrgMonth = eventsPerOrgMonth
        self.seed = seed
        self.firstMonth = firstMonth
        self.dirtyPercent = dirtyPercent
    }

    /// The last day of the generated months: the natural `--through` for a close.
    public var lastDay: CivilDate { firstMonth.addingMonths(months).addingDays(-1) }
}

/// Writes a synthetic input folder: every plan, realistic action costs, heavy users who
/// overdraw, upgrades and downgrades, top-ups and refunds, one usage file per month.
public enum InputGenerator {
    static let actions: [(id: String, low: Int, high: Int)] = [
        ("script", 20, 80), ("video_draft", 50, 200), ("video_final", 300, 1500), ("set_3d", 200, 800),
        ("tts", 5, 30), ("upscale", 40, 150),
    ]
    static let plans: [(id: String, monthly: Int, weight: Int)] = [
        ("free", 100, 15), ("community", 500, 25), ("standard", 2000, 30), ("business", 10000, 22),
        ("enterprise", 50000, 8),
    ]

    public static func write(_ options: GeneratorOptions, to folder: String) throws(OutputError) {
        var random = SeededRandom(seed: options.seed)
        try writeFileAtomically(folder + "/plans.yaml", standardPlans)
        struct GeneratedOrg {
            var id: String
            var plan: Int
            var start: CivilDate
            var currency: String
            var heavy: Bool
        }
        var orgs: [GeneratedOrg] = []
        var orgText = CSVWriter.line([
            "org_id", "name", "plan_id", "start_date", "currency", "country", "street", "city", "postal_code",
            "vat_category", "vat_rate", "vat_id", "endpoint_id", "buyer_reference", "monthly_credits", "bank_cap",
            "price",
        ])
        let totalWeight = plans.reduce(0) { $0 + $1.weight }
        for number in 0..<options.orgs {
            var pick = random.int(0...(totalWeight - 1))
            var plan = 0
            while pick >= plans[plan].weight {
                pick -= plans[plan].weight
                plan += 1
            }
            let day = random.int(1...31)
            let start = CivilDate(
                year: options.firstMonth.year, month: options.firstMonth.month,
                day: min(day, CivilDate.daysIn(year: options.firstMonth.year, month: options.firstMonth.month)))
            let id = "org\(String(number + 1).leftPadded(6))"
            let currencyRoll = random.int(0...9)
            let currency = currencyRoll < 5 ? "USD" : currencyRoll < 8 ? "EUR" : currencyRoll < 9 ? "GBP" : "JPY"
            let reverseCharge = currency == "EUR" && random.chance(30)
            let custom = plans[plan].id == "enterprise"
            let price = currency == "JPY" ? "150000" : "999.00"
            orgText += CSVWriter.line([
                id, "Studio \(number + 1)", plans[plan].id, start.description, currency,
                reverseCharge ? "DE" : "GB", "\(number + 1) Main Street", reverseCharge ? "Berlin" : "London",
                reverseCharge ? "10115" : "EC1A 1AA", reverseCharge ? "AE" : "S", reverseCharge ? "0" : "20",
                reverseCharge ? "DE\(100_000_000 + number)" : "",
                random.chance(30) ? "0088:" + EndpointCheck.gln(body: String(730_001_000_000 + number)) : "",
                random.chance(20) ? "PO-\(number)" : "", custom ? "50000" : "", custom ? "20000" : "",
                custom ? price : "",
            ])
            orgs.append(
                GeneratedOrg(id: id, plan: plan, start: start, currency: currency, heavy: random.chance(10)))
        }
        try writeFileAtomically(folder + "/orgs.csv", orgText)

        // Plan changes: some upgrades and downgrades inside the generated months.
        var changes = CSVWriter.line(["org_id", "effective_at", "plan_id"])
        for org in orgs where random.chance(8) && options.months > 1 {
            let monthOffset = random.int(1...(options.months - 1))
            let day = org.start.addingMonths(monthOffset).addingDays(random.int(1...20))
            let target = org.plan < 3 && random.chance(70) ? org.plan + 1 : max(0, org.plan - 1)
            if target == org.plan || plans[target].id == "enterprise" { continue }
            changes += CSVWriter.line([
                org.id, "\(day)T\(String(random.int(0...23)).leftPadded(2)):00:00Z", plans[target].id,
            ])
        }
        try writeFileAtomically(folder + "/plan_changes.csv", changes)

        // Top-ups by orgs whose plan allows them, and a few refunds.
        var topUps = CSVWriter.line(["purchase_id", "org_id", "purchased_at", "pack_id"])
        var refunds = CSVWriter.line(["refund_id", "purchase_id", "refunded_at"])
        var purchaseNumber = 0
        for org in orgs where org.plan >= 3 {
            for month in 0..<options.months where random.chance(15) {
                purchaseNumber += 1
                let day = org.start.addingMonths(month).addingDays(random.int(1...25))
                if day > options.lastDay { continue }
                let pack =
                    org.currency == "EUR" || org.currency == "USD"
                    ? ["pack-1k", "pack-5k", "pack-20k"] : ["pack-1k", "pack-5k"]
                let id = "P\(String(purchaseNumber).leftPadded(7))"
                topUps += CSVWriter.line([id, org.id, "\(day)T12:00:00Z", pack[random.int(0...(pack.count - 1))]])
                if random.chance(10), day.addingDays(1) <= options.lastDay {
                    refunds += CSVWriter.line(["R\(id)", id, "\(day.addingDays(1))T09:00:00Z"])
                }
            }
        }
        try writeFileAtomically(folder + "/topups.csv", topUps)
        try writeFileAtomically(folder + "/refunds.csv", refunds)

        // Usage: one file per calendar month, written through a buffer.
        var eventNumber = 0
        makeFolder(folder + "/usage")
        for month in 0..<options.months {
            let monthStart = options.firstMonth.addingMonths(month)
            let monthDays = CivilDate.daysIn(year: monthStart.year, month: monthStart.month)
            let writer = try BufferedFileWriter(
                path: folder + "/usage/\(monthStart.year)-\(String(monthStart.month).leftPadded(2)).csv")
            writer.write("event_id,org_id,occurred_at,user_id,action,credits,job_id,quality\n")
            for org in orgs {
                let budget = plans[org.plan].monthly
                let count = max(
                    0,
                    options.eventsPerOrgMonth
                        + random.int(-options.eventsPerOrgMonth / 2...options.eventsPerOrgMonth / 2))
                // Scale costs so typical orgs use 40–110 % of their bucket and heavy ones 150–300 %.
                let targetPercent = org.heavy ? random.int(150...300) : random.int(40...110)
                let perEvent = max(1, budget * targetPercent / 100 / max(1, count))
                for _ in 0..<count {
                    let day = random.int(1...monthDays)
                    let date = CivilDate(year: monthStart.year, month: monthStart.month, day: day)
                    if date < org.start { continue }
                    let action = actions[random.int(0...(actions.count - 1))]
                    let credits = max(0, perEvent * random.int(50...150) / 100)
                    eventNumber += 1
                    let eventId = "e\(String(eventNumber).leftPadded(10))"
                    let time =
                        "\(String(random.int(0...23)).leftPadded(2)):\(String(random.int(0...59)).leftPadded(2)):\(String(random.int(0...59)).leftPadded(2))"
                    let line =
                        "\(eventId),\(org.id),\(date)T\(time)Z,u\(random.int(1...5)),\(action.id),\(credits),j\(eventNumber),\(random.int(1...3))\n"
                    writer.write(line)
                    if options.dirtyPercent > 0, random.int(0...999) < options.dirtyPercent * 10 {
                        switch random.int(0...3) {
                        case 0: writer.write(line)  // an exact duplicate
                        case 1:
                            writer.write("\(eventId),\(org.id),\(date)T\(time)Z,u1,\(action.id),\(credits + 1),x,1\n")
                        case 2:
                            writer.write("bad\(eventNumber),\(org.id),\(date)T\(time),u1,\(action.id),\(credits),x,1\n")
                        default:
                            writer.write("bad\(eventNumber),nobody,\(date)T\(time)Z,u1,\(action.id),-\(credits),x,1\n")
                        }
                    }
                }
            }
            try writer.close()
        }
    }

    public static let standardPlans = """
        issuer:
          name: "ACT 3 Studios Ltd"
          street: "1 Stage Road"
          city: "London"
          postal_code: "EC1A 1AA"
          country: GB
          vat_id: GB123456789
          endpoint_id: "0088:5060000000009"
          iban: GB29NWBK60161331926819
          payment_terms_days: 14
          invoice_prefix: "INV-"
          credit_note_prefix: "CN-"
        plans:
          - { id: free, name: Free, rank: 0, monthly_credits: 100, bank_cap: 0, topups: false, overdraft: carry,
              prices: { USD: "0.00", EUR: "0.00", GBP: "0.00", JPY: "0" } }
          - { id: community, name: Community, rank: 1, monthly_credits: 500, bank_cap: 250, topups: false,
              rollover_max_age_months: 2, overdraft: carry,
              prices: { USD: "9.00", EUR: "8.50", GBP: "7.50", JPY: "1400" } }
          - { id: standard, name: Standard, rank: 2, monthly_credits: 2000, bank_cap: 1000, topups: false,
              rollover_max_age_months: 6, overdraft: carry,
              prices: { USD: "29.00", EUR: "27.00", GBP: "24.99", JPY: "4500" } }
          - { id: business, name: Business, rank: 3, monthly_credits: 10000, bank_cap: 10000, topups: true,
              overdraft: invoice, prices: { USD: "99.00", EUR: "95.00", GBP: "84.99", JPY: "15000" },
              overage_price: { USD: "0.0150", EUR: "0.0145", GBP: "0.0125", JPY: "2.25" } }
          - { id: enterprise, name: Enterprise, rank: 4, custom: true, topups: true, overdraft: invoice,
              overage_price: { USD: "0.0100", EUR: "0.0095", GBP: "0.0085", JPY: "1.5" } }
        packs:
          - { id: pack-1k, credits: 1000, valid_months: 3, prices: { USD: "10.00", EUR: "9.50", GBP: "8.50", JPY: "1500" } }
          - { id: pack-5k, credits: 5000, valid_months: 12, prices: { USD: "45.00", EUR: "42.00", GBP: "38.00", JPY: "6800" } }
          - { id: pack-20k, credits: 20000, prices: { USD: "160.00", EUR: "150.00" } }
        actions:
          - { id: script,      label: "AI Script / Story Generation" }
          - { id: video_draft, label: "Generative Video Clip (draft Q=1, 720p)" }
          - { id: video_final, label: "Generative Video Clip (final Q=3, 4K)" }
          - { id: set_3d,      label: "3-D Set or Prop Generation" }
          - { id: tts,         label: "Text-to-Speech Dialogue" }
          - { id: upscale,     label: "Up-scaling" }

        """
}

/// Appends text to a file through a large buffer: generating millions of rows must not make
/// one system call per row.
final class BufferedFileWriter {
    private let handle: UnsafeMutablePointer<FILE>
    private let path: String

    init(path: String) throws(OutputError) {
        guard let handle = fopen(path, "wb") else {
            throw OutputError(path: path, reason: String(cString: strerror(errno)))
        }
        setvbuf(handle, nil, _IOFBF, 1 << 20)
        self.handle = handle
        self.path = path
    }

    func write(_ text: String) {
        var copy = text
        copy.withUTF8 { bytes in _ = fwrite(bytes.baseAddress, 1, bytes.count, handle) }
    }

    func close() throws(OutputError) {
        if fclose(handle) != 0 { throw OutputError(path: path, reason: String(cString: strerror(errno))) }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
