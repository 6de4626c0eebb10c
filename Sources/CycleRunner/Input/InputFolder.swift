import Invoicing

/// Everything read from an input folder: the catalog, the orgs, and every row of every
/// event file, each either kept for the close or rejected for its form with a reason.
public struct InputFolder: Sendable {
    public var catalog: Catalog
    /// Input files in reading order; `RowOrigin.fileIndex` points here.
    public var files: [String] = []
    public var counts: [RowCounts] = []
    public var usage = UsageRows()
    public var planChanges: [PlanChangeRecord] = []
    public var topUps: [TopUpRecord] = []
    public var refunds: [RefundRecord] = []
    /// Interned user ids; `UsageRecord.userIndex` points here.
    public var users: [String] = []
    /// (org, user) → may use credits, from members.csv; empty when there is none.
    public var memberPermissions: [OrgID: [String: Bool]] = [:]
    public var queue: [OrgID: [QueuedJob]] = [:]
    public var rejected: [RejectedRow] = []
    public var hasMembersFile = false
    /// The hasher state after each org's id and the action ids by index: with `users`, what
    /// `usageHasher` needs to compute a usage row's content hash.
    var usageOrgPrefixes: [StableHasher] = []
    var actionIds: [String] = []

    /// Computes content hashes of the usage rows read so far.
    public var usageHasher: UsageHasher {
        UsageHasher(orgPrefixes: usageOrgPrefixes, users: users, actions: actionIds)
    }

    mutating func addFile(_ name: String) -> Int32 {
        files.append(name)
        counts.append(RowCounts())
        return Int32(files.count - 1)
    }

    mutating func reject(_ fileIndex: Int32, _ line: Int, _ rejection: Rejection, _ raw: String) {
        rejected.append(
            RejectedRow(sourceFile: files[Int(fileIndex)], lineNumber: line, rejection: rejection, raw: raw))
        counts[Int(fileIndex)].rejected += 1
    }
}

/// The orgs known to a run (orgs.csv merged with the ledger), by index.
public struct OrgDirectory: Sendable {
    public var profiles: [OrgProfile]
    public var indexById: [String: Int32]

    public init(profiles: [OrgProfile]) {
        self.profiles = profiles
        var index: [String: Int32] = [:]
        for (position, profile) in profiles.enumerated() { index[profile.id.rawValue] = Int32(position) }
        self.indexById = index
    }
}

public enum InputReader {
    public static let orgColumns = [
        "org_id", "name", "plan_id", "start_date", "currency", "country", "street", "city", "postal_code",
        "vat_category", "vat_rate",
    ]

    /// Reads orgs.csv. Whole-file problems (missing columns, an unknown plan, a duplicate id,
    /// a custom plan without its terms) throw; a row with a bad value is rejected.
    public static func readOrgs(folder: String, catalog: Catalog) throws(InputError) -> (
        [OrgProfile], [RejectedRow], RowCounts
    ) {
        let read = try readOrgRows(folder: folder, catalog: catalog)
        return (read.orgs, read.rejected, read.counts)
    }

    /// Like `readOrgs`, and also the line of each accepted org, so that a later rejection of
    /// the row (by the close, against the ledger) can name it.
    public static func readOrgRows(folder: String, catalog: Catalog) throws(InputError) -> (
        orgs: [OrgProfile], lines: [String: Int], rejected: [RejectedRow], counts: RowCounts
    ) {
        let name = "orgs.csv"
        let table = try CSVTable(
            path: folder + "/" + name, displayName: name, required: orgColumns,
            optional: ["vat_id", "endpoint_id", "buyer_reference", "monthly_credits", "bank_cap", "price"])
        var orgs: [OrgProfile] = []
        var lines: [String: Int] = [:]
        var seen: [String: Int] = [:]
        // Room for every row up front: grown by doubling, the profiles (10,000 of them at
        // a few hundred bytes) were copied again and again into fresh memory, a third of
        // reading the file, on one core before the usage files could start.
        let rowsAtMost = lineFeedCount(folder + "/" + name)
        orgs.reserveCapacity(rowsAtMost)
        lines.reserveCapacity(rowsAtMost)
        seen.reserveCapacity(rowsAtMost)
        var rejected: [RejectedRow] = []
        var counts = RowCounts()
        var fileError: InputError?
        do {
            try table.forEachRow(
                { row in
                    counts.read += 1
                    let fields = RowFields(row: row, table: table)
                    let idText = (try? fields.text("org_id")) ?? ""
                    if let first = seen[idText] {
                        fileError = InputError(
                            file: name, line: row.lineNumber, column: "org_id",
                            "org_id \(idText) appears twice (first on line \(first))")
                        throw StopReading()
                    }
                    if !idText.isEmpty { seen[idText] = row.lineNumber }
                    do throws(OrgRowError) {
                        orgs.append(try orgProfile(fields, catalog: catalog))
                        lines[idText] = row.lineNumber
                    } catch {
                        switch error {
                        case .file(let column, let message):
                            fileError = InputError(file: name, line: row.lineNumber, column: column, message)
                            throw StopReading()
                        case .row(let rejection):
                            rejected.append(
                                RejectedRow(
                                    sourceFile: name, lineNumber: row.lineNumber, rejection: rejection,
                                    raw: row.rawText))
                            counts.rejected += 1
                        }
                    }
                },
                onProblem: { line, rejection, raw in
                    counts.read += 1
                    counts.rejected += 1
                    rejected.append(RejectedRow(sourceFile: name, lineNumber: line, rejection: rejection, raw: raw))
                })
        } catch is StopReading {
        } catch {
            throw InputError(file: name, "cannot be read: \(error)")
        }
        if let fileError { throw fileError }
        return (orgs, lines, rejected, counts)
    }

    enum OrgRowError: Error {
        case file(column: String, message: String)
        case row(Rejection)
    }

    static func orgProfile(_ fields: RowFields, catalog: Catalog) throws(OrgRowError) -> OrgProfile {
        func get(_ body: () throws(Rejection) -> String) throws(OrgRowError) -> String {
            do { return try body() } catch { throw .row(error) }
        }
        let id = try get { () throws(Rejection) in try fields.text("org_id") }
        guard OrgID.isValid(id) else {
            throw .row(Rejection(.badOrgId, "org_id \(id) must be 1–64 of A-Z a-z 0-9 . _ - and not start with ."))
        }
        let planText = try get { () throws(Rejection) in try fields.text("plan_id") }
        guard let plan = catalog.plans[PlanID(planText)] else {
            throw .file(column: "plan_id", message: "unknown plan \(planText)")
        }
        let startText = try get { () throws(Rejection) in try fields.text("start_date") }
        guard let start = CivilDate.parse(startText) else {
            throw .row(Rejection(.badDate, "start_date \(startText) is not a YYYY-MM-DD date"))
        }
        let currencyText = try get { () throws(Rejection) in try fields.text("currency") }
        guard Currency(code: currencyText) != nil else {
            throw .row(Rejection(.badValue, "currency \(currencyText) is not an ISO 4217 code"))
        }
        let country = try get { () throws(Rejection) in try fields.text("country") }
        guard country.utf8.count == 2, country.utf8.allSatisfy({ $0 >= 0x41 && $0 <= 0x5A }) else {
            throw .row(Rejection(.badValue, "country \(country) is not an ISO 3166-1 alpha-2 code"))
        }
        let category = try get { () throws(Rejection) in try fields.text("vat_category") }
        guard TaxTreatment.knownCategories.contains(category) else {
            throw .row(Rejection(.badValue, "vat_category \(category) is not one of S Z E AE K G O"))
        }
        let rateText = try get { () throws(Rejection) in try fields.text("vat_rate") }
        guard case .success(let rate) = DecimalText.parse(rateText, scale: 2), rate >= 0, rate <= 100_00 else {
            throw .row(Rejection(.badValue, "vat_rate \(rateText) is not a percentage with up to 2 decimals"))
        }
        if category != "S", rate != 0 {
            throw .row(Rejection(.badValue, "vat_rate must be 0 for category \(category)"))
        }
        func optional(_ column: String) throws(OrgRowError) -> String? {
            do { return try fields.optionalText(column) } catch { throw .row(error) }
        }
        var custom: CustomTerms?
        let monthlyText = try optional("monthly_credits")
        let capText = try optional("bank_cap")
        let priceText = try optional("price")
        if let monthlyText, let capText, let priceText {
            guard let monthly = Int64(monthlyText), monthly >= 0, let cap = Int64(capText), cap >= 0 else {
                throw .row(Rejection(.badNumber, "monthly_credits and bank_cap must be whole numbers ≥ 0"))
            }
            let exponent = Currency(code: currencyText)?.exponent ?? 2
            guard case .success(let price) = DecimalText.parse(priceText, scale: exponent), price >= 0 else {
                throw .row(
                    Rejection(.badNumber, "price \(priceText) is not an amount with at most \(exponent) decimals"))
            }
            custom = CustomTerms(monthlyCredits: monthly, bankCap: cap, priceMinor: price)
        }
        if plan.isCustom, custom == nil {
            throw .file(
                column: "monthly_credits",
                message: "org \(id) starts on custom plan \(plan.id) without monthly_credits, bank_cap and price")
        }
        let profile = OrgProfile(
            id: OrgID(id), name: try get { () throws(Rejection) in try fields.text("name") }, firstPlanId: plan.id,
            startDate: start, currencyCode: currencyText, countryCode: country,
            street: try get { () throws(Rejection) in try fields.text("street") },
            city: try get { () throws(Rejection) in try fields.text("city") },
            postalCode: try get { () throws(Rejection) in try fields.text("postal_code") },
            tax: TaxTreatment(categoryCode: category, rateHundredths: rate), vatId: try optional("vat_id"),
            endpointId: try optional("endpoint_id"), buyerReference: try optional("buyer_reference"),
            customTerms: custom)
        if let endpoint = profile.endpointId, !endpoint.contains(":") {
            throw .row(Rejection(.badValue, "endpoint_id \(endpoint) must be scheme:id"))
        }
        if case .failure(let problem) = catalog.terms(for: plan.id, org: profile) {
            throw .row(problem.rejection)
        }
        return profile
    }

    /// The optional event files, in the order `readEvents` reads them (`InputFilesTests` holds
    /// the two to each other).
    static let optionalFiles = ["plan_changes.csv", "topups.csv", "refunds.csv", "members.csv", "queue.csv"]

    /// The files a close of `folder` reads, in the order it reads them: plans.yaml, orgs.csv,
    /// each usage file, then the optional files that exist. This is what the ledger's input
    /// hash covers, and it is known before any row is read, so the hash can start at once.
    /// A file that appears or goes between this listing and the reading makes the close's own
    /// list differ; the close then hashes that list instead.
    public static func filesToRead(folder: String) -> [String] {
        var names = ["plans.yaml", "orgs.csv"]
        names += (listFolder(folder + "/usage", suffix: ".csv") ?? []).map { "usage/" + $0 }
        names += optionalFiles.filter { fileExists(folder + "/" + $0) }
        return names
    }

    /// Reads every event file of the folder. Rows are checked for form and against the orgs
    /// and the catalog; what needs the ledger (duplicates of earlier runs, late rows) is left
    /// to the close.
    public static func readEvents(
        folder: String, catalog: Catalog, orgs: OrgDirectory, into input: inout InputFolder
    ) throws(InputError) {
        try readEvents(folder: folder, catalog: catalog, orgs: orgs, into: &input, keepingUsageIds: false)
    }

    /// `readEvents`, returning the reader's table of usage event ids (id bytes → position in
    /// `input.usage`) when `keepingUsageIds`: a close after an earlier one finds the rows that
    /// close applied through it. It is tens of megabytes at millions of rows, so it is handed
    /// to its one user rather than kept in the folder, which the close holds to its end.
    @discardableResult
    static func readEvents(
        folder: String, catalog: Catalog, orgs: OrgDirectory, into input: inout InputFolder, keepingUsageIds: Bool
    ) throws(InputError) -> ByteTable? {
        guard let usageFiles = listFolder(folder + "/usage", suffix: ".csv") else {
            throw InputError(file: "usage/", "missing folder: usage/*.csv is required (it may hold no files)")
        }
        let usageIds = try UsageReader.read(
            folder: folder, files: usageFiles, catalog: catalog, orgs: orgs, into: &input,
            keepingIds: keepingUsageIds)
        var seenChanges: Set<UTF8Key> = []
        try readOptional(folder, "plan_changes.csv", ["org_id", "effective_at", "plan_id"], &input) {
            fields, origin, raw, input throws(Rejection) in
            let (orgIndex, profile) = try lookupOrg(fields, orgs)
            let instant = try fields.instant("effective_at")
            let planText = try fields.text("plan_id")
            guard catalog.plans[PlanID(planText)] != nil else {
                throw Rejection(.unknownPlan, "plan \(planText) is not in plans.yaml")
            }
            if instant < profile.startInstant {
                throw Rejection(
                    .beforeOrgStart, "\(instant) is before org \(profile.id) starts on \(profile.startDate)")
            }
            let record = PlanChangeRecord(
                orgIndex: orgIndex, instant: instant, planId: PlanID(planText),
                sequence: Int32(input.planChanges.count), origin: origin, raw: raw)
            if !seenChanges.insert(UTF8Key(record.key)).inserted { return .duplicate }
            input.planChanges.append(record)
            return .kept
        }
        // Ids compare as UTF-8 bytes (§6.2): Swift's own String equality would merge
        // canonically equivalent but different ids.
        var seenPurchases: [UTF8Key: String] = [:]
        try readOptional(folder, "topups.csv", ["purchase_id", "org_id", "purchased_at", "pack_id"], &input) {
            fields, origin, raw, input throws(Rejection) in
            let purchaseId = try fields.text("purchase_id")
            let (orgIndex, profile) = try lookupOrg(fields, orgs)
            let instant = try fields.instant("purchased_at")
            let packText = try fields.text("pack_id")
            guard catalog.packs[PackID(packText)] != nil else {
                throw Rejection(.unknownPack, "pack \(packText) is not in plans.yaml")
            }
            if instant < profile.startInstant {
                throw Rejection(
                    .beforeOrgStart, "\(instant) is before org \(profile.id) starts on \(profile.startDate)")
            }
            let key = "\(orgIndex)|\(instant.microseconds)|\(packText)"
            if let first = seenPurchases[UTF8Key(purchaseId)] {
                if first == key { return .duplicate }
                throw Rejection(.conflictingDuplicate, "purchase_id \(purchaseId) was already read with other content")
            }
            seenPurchases[UTF8Key(purchaseId)] = key
            input.topUps.append(
                TopUpRecord(
                    purchaseId: PurchaseID(purchaseId), orgIndex: orgIndex, instant: instant,
                    packId: PackID(packText), origin: origin, raw: raw))
            return .kept
        }
        var seenRefunds: [UTF8Key: String] = [:]
        try readOptional(folder, "refunds.csv", ["refund_id", "purchase_id", "refunded_at"], &input) {
            fields, origin, raw, input throws(Rejection) in
            let refundId = try fields.text("refund_id")
            let purchaseId = try fields.text("purchase_id")
            let instant = try fields.instant("refunded_at")
            let key = "\(purchaseId)|\(instant.microseconds)"
            if let first = seenRefunds[UTF8Key(refundId)] {
                if first == key { return .duplicate }
                throw Rejection(.conflictingDuplicate, "refund_id \(refundId) was already read with other content")
            }
            seenRefunds[UTF8Key(refundId)] = key
            input.refunds.append(
                RefundRecord(
                    refundId: refundId, purchaseId: PurchaseID(purchaseId), instant: instant, origin: origin, raw: raw))
            return .kept
        }
        input.hasMembersFile = fileExists(folder + "/members.csv")
        try readOptional(folder, "members.csv", ["org_id", "user_id", "role", "use_credits"], &input) {
            fields, _, _, input throws(Rejection) in
            let (_, profile) = try lookupOrg(fields, orgs)
            let user = try fields.text("user_id")
            let allowed: Bool
            switch try fields.text("use_credits").lowercased() {
            case "true": allowed = true
            case "false": allowed = false
            default: throw Rejection(.badValue, "use_credits must be true or false")
            }
            if input.memberPermissions[profile.id]?[user] != nil { return .duplicate }
            input.memberPermissions[profile.id, default: [:]][user] = allowed
            return .applied
        }
        try readOptional(folder, "queue.csv", ["org_id", "job_id", "action", "credits"], &input) {
            fields, _, _, input throws(Rejection) in
            let (_, profile) = try lookupOrg(fields, orgs)
            let job = QueuedJob(
                jobId: try fields.text("job_id"), action: try fields.text("action"),
                credits: try fields.credits("credits"))
            input.queue[profile.id, default: []].append(job)
            return .applied
        }
        return usageIds
    }

    enum RowOutcome {
        /// Kept for the close, which decides applied, duplicate of an earlier run, or pending.
        case kept
        case duplicate
        /// Used by the reader itself (members, queue): counted as applied at once.
        case applied
    }

    static func lookupOrg(_ fields: RowFields, _ orgs: OrgDirectory) throws(Rejection) -> (Int32, OrgProfile) {
        let orgText = try fields.text("org_id")
        guard let index = orgs.indexById[orgText] else {
            throw Rejection(.unknownOrg, "org \(orgText) is not in orgs.csv")
        }
        return (index, orgs.profiles[Int(index)])
    }

    static func readRows(
        _ table: CSVTable, fileIndex: Int32, input: inout InputFolder,
        _ parse: (RowFields, RowOrigin, inout InputFolder) throws(Rejection) -> RowOutcome
    ) throws(InputError) {
        do {
            try table.forEachRow(
                { row in
                    input.counts[Int(fileIndex)].read += 1
                    let origin = RowOrigin(fileIndex: fileIndex, lineNumber: Int32(clamping: row.lineNumber))
                    do throws(Rejection) {
                        switch try parse(RowFields(row: row, table: table), origin, &input) {
                        case .kept: break
                        case .duplicate: input.counts[Int(fileIndex)].duplicates += 1
                        case .applied: input.counts[Int(fileIndex)].applied += 1
                        }
                    } catch {
                        input.reject(fileIndex, row.lineNumber, error, row.rawText)
                    }
                },
                onProblem: { line, rejection, raw in
                    input.counts[Int(fileIndex)].read += 1
                    input.reject(fileIndex, line, rejection, raw)
                })
        } catch {
            throw InputError(file: table.displayName, "cannot be read: \(error)")
        }
    }

    /// Reads an optional file through `readRows`; its rows also get their raw text, which the
    /// close keeps for rows it may reject later (plan changes, purchases, refunds).
    static func readOptional(
        _ folder: String, _ name: String, _ columns: [String], _ input: inout InputFolder,
        _ parse: (RowFields, RowOrigin, String, inout InputFolder) throws(Rejection) -> RowOutcome
    ) throws(InputError) {
        guard fileExists(folder + "/" + name) else { return }
        let table = try CSVTable(path: folder + "/" + name, displayName: name, required: columns, optional: [])
        let fileIndex = input.addFile(name)
        try readRows(table, fileIndex: fileIndex, input: &input) { fields, origin, input throws(Rejection) in
            try parse(fields, origin, fields.row.rawText, &input)
        }
    }
}
