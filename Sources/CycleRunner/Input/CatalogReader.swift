import Invoicing
import Yams

/// Reads plans.yaml into a `Catalog`. Every problem names the file, the line and the key,
/// and stops the run: a wrong price or cap would misbill every org on the plan.
public enum CatalogReader {
    /// A cap on nodes visited, so a YAML alias bomb cannot make the walk exponential.
    static let nodeLimit = 100_000

    public static func read(path: String, displayName: String = "plans.yaml") throws(InputError) -> Catalog {
        let text: String
        do {
            text = try readTextFile(path)
        } catch {
            throw InputError(file: displayName, error.message)
        }
        return try parse(text, file: displayName)
    }

    public static func parse(_ text: String, file: String) throws(InputError) -> Catalog {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw InputError(file: file, line: yamlLine(error), "not readable YAML: \(error)")
        } catch {
            throw InputError(file: file, "not readable YAML: \(error)")
        }
        guard let root, let top = root.mapping else {
            throw InputError(file: file, line: 1, "expected a mapping with issuer, plans, packs and actions")
        }
        var walker = Walker(file: file)
        let rootValue = try walker.map(Node.mapping(top), key: "(top)")
        let issuer = try walker.issuer(walker.required(rootValue, "issuer"))
        var plans: [PlanID: Plan] = [:]
        for planNode in try walker.list(walker.required(rootValue, "plans"), key: "plans") {
            let plan = try walker.plan(planNode)
            if plans[plan.id] != nil {
                throw walker.error(planNode.node, key: "plans.id", "plan id \(plan.id) appears twice")
            }
            plans[plan.id] = plan
        }
        var packs: [PackID: Pack] = [:]
        if let packsNode = rootValue.values["packs"] {
            for packNode in try walker.list(packsNode, key: "packs") {
                let pack = try walker.pack(packNode)
                if packs[pack.id] != nil {
                    throw walker.error(packNode.node, key: "packs.id", "pack id \(pack.id) appears twice")
                }
                packs[pack.id] = pack
            }
        }
        var actions: [Action] = []
        var seen: Set<String> = []
        for actionNode in try walker.list(walker.required(rootValue, "actions"), key: "actions") {
            let fields = try walker.map(actionNode.node, key: "actions")
            let id = try walker.string(walker.required(fields, "id"), key: "actions.id")
            var label = id
            if let labelNode = fields.values["label"] { label = try walker.string(labelNode, key: "actions.label") }
            if !seen.insert(id).inserted {
                throw walker.error(actionNode.node, key: "actions.id", "action id \(id) appears twice")
            }
            actions.append(Action(id: ActionID(id), label: label))
        }
        return Catalog(issuer: issuer, plans: plans, packs: packs, actions: actions)
    }

    static func yamlLine(_ error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        default:
            return nil
        }
    }
}

/// A mapping node with its keys as strings, remembering where it stood.
struct YAMLMap {
    var node: Node
    var values: [String: Node]
}

struct YAMLItem {
    var node: Node
}

/// Walks the YAML tree, turning each wrong shape into an error with line and key path.
struct Walker {
    let file: String
    var visited = 0

    init(file: String) { self.file = file }

    func error(_ node: Node?, key: String, _ message: String) -> InputError {
        InputError(file: file, line: node?.mark?.line, column: key, message)
    }

    mutating func visit(_ node: Node, key: String) throws(InputError) {
        visited += 1
        if visited > CatalogReader.nodeLimit {
            throw error(node, key: key, "more than \(CatalogReader.nodeLimit) YAML nodes (an alias bomb?)")
        }
    }

    mutating func map(_ node: Node, key: String) throws(InputError) -> YAMLMap {
        try visit(node, key: key)
        guard let mapping = node.mapping else { throw error(node, key: key, "expected a mapping") }
        var values: [String: Node] = [:]
        for (keyNode, value) in mapping {
            guard let name = keyNode.scalar?.string else { throw error(keyNode, key: key, "keys must be plain text") }
            if values[name] != nil { throw error(keyNode, key: "\(key).\(name)", "key appears twice") }
            values[name] = value
        }
        return YAMLMap(node: node, values: values)
    }

    mutating func list(_ node: Node, key: String) throws(InputError) -> [YAMLItem] {
        try visit(node, key: key)
        guard let sequence = node.sequence else { throw error(node, key: key, "expected a list") }
        return sequence.map { YAMLItem(node: $0) }
    }

    func required(_ map: YAMLMap, _ name: String) throws(InputError) -> Node {
        guard let value = map.values[name] else { throw error(map.node, key: name, "missing key \(name)") }
        return value
    }

    mutating func string(_ node: Node, key: String) throws(InputError) -> String {
        try visit(node, key: key)
        guard let scalar = node.scalar else { throw error(node, key: key, "expected text") }
        return scalar.string
    }

    mutating func integer(_ node: Node, key: String, minimum: Int64 = 0) throws(InputError) -> Int64 {
        let text = try string(node, key: key)
        guard let value = Int64(text), value >= minimum else {
            throw error(node, key: key, "expected a whole number ≥ \(minimum), found \(text)")
        }
        return value
    }

    mutating func boolean(_ node: Node, key: String) throws(InputError) -> Bool {
        switch try string(node, key: key).lowercased() {
        case "true", "yes": return true
        case "false", "no": return false
        default: throw error(node, key: key, "expected true or false")
        }
    }

    mutating func currency(_ text: String, node: Node, key: String) throws(InputError) -> Currency {
        guard let currency = Currency(code: text) else {
            throw error(node, key: key, "\(text) is not an ISO 4217 currency code")
        }
        return currency
    }

    /// `{ USD: "29.00" }` with no more decimals than each currency allows (plus `extra`).
    mutating func prices(_ node: Node, key: String, extraDigits: Int = 0) throws(InputError) -> [String: Int64] {
        let fields = try map(node, key: key)
        var result: [String: Int64] = [:]
        for (code, valueNode) in fields.values {
            let currency = try currency(code, node: valueNode, key: "\(key).\(code)")
            let text = try string(valueNode, key: "\(key).\(code)")
            switch DecimalText.parse(text, scale: currency.exponent + extraDigits) {
            case .success(let value) where value >= 0:
                result[code] = value
            case .success:
                throw error(valueNode, key: "\(key).\(code)", "a price cannot be negative")
            case .failure(.tooManyDecimals(let allowed)):
                throw error(
                    valueNode, key: "\(key).\(code)", "\(text) has more than \(allowed) decimals for \(code)")
            case .failure:
                throw error(valueNode, key: "\(key).\(code)", "\(text) is not a decimal amount")
            }
        }
        return result
    }

    mutating func issuer(_ node: Node) throws(InputError) -> Issuer {
        let fields = try map(node, key: "issuer")
        func text(_ name: String) throws(InputError) -> String {
            try string(required(fields, name), key: "issuer.\(name)")
        }
        func optional(_ name: String) throws(InputError) -> String? {
            guard let value = fields.values[name] else { return nil }
            let result = try string(value, key: "issuer.\(name)")
            return result.isEmpty ? nil : result
        }
        let country = try text("country")
        guard country.utf8.count == 2, country.utf8.allSatisfy({ $0 >= 0x41 && $0 <= 0x5A }) else {
            throw error(fields.values["country"], key: "issuer.country", "expected an ISO 3166-1 alpha-2 code")
        }
        let endpoint = try optional("endpoint_id")
        if let endpoint, !endpoint.contains(":") {
            throw error(fields.values["endpoint_id"], key: "issuer.endpoint_id", "expected scheme:id")
        }
        // Document numbers name files (invoices/<number>.xml) and land in CSV exports, so a
        // prefix is plain: no path separators, no dot first, nothing a spreadsheet would run.
        for name in ["invoice_prefix", "credit_note_prefix"] {
            if let prefix = try optional(name), !Walker.isPlainPrefix(prefix) {
                throw error(
                    fields.values[name], key: "issuer.\(name)",
                    "\(prefix) must be 1–20 of A-Z a-z 0-9 . _ - starting with a letter or digit")
            }
        }
        let terms =
            try fields.values["payment_terms_days"].map { node throws(InputError) in
                try integer(node, key: "issuer.payment_terms_days")
            } ?? 30
        return Issuer(
            party: Party(
                name: try text("name"), street: try text("street"), city: try text("city"),
                postalCode: try text("postal_code"), countryCode: country, vatId: try optional("vat_id"),
                endpointId: endpoint),
            payment: PaymentDetails(iban: try optional("iban"), paymentTermsDays: Int(terms)),
            invoicePrefix: try optional("invoice_prefix") ?? "INV-",
            creditNotePrefix: try optional("credit_note_prefix") ?? "CN-",
            accounts: try accounts(fields.values["accounts"]))
    }

    /// `issuer.accounts`: any of receivable, subscription, proration, overage, packs, vat.
    mutating func accounts(_ node: Node?) throws(InputError) -> JournalAccounts {
        var accounts = JournalAccounts.defaults
        guard let node else { return accounts }
        let fields = try map(node, key: "issuer.accounts")
        let setters: [(String, WritableKeyPath<JournalAccounts, String>)] = [
            ("receivable", \.receivable), ("subscription", \.subscriptionRevenue), ("proration", \.prorationRevenue),
            ("overage", \.overageRevenue), ("packs", \.packRevenue), ("vat", \.vatPayable),
        ]
        for (name, path) in setters {
            if let value = fields.values[name] {
                accounts[keyPath: path] = try string(value, key: "issuer.accounts.\(name)")
            }
        }
        for name in fields.values.keys where !setters.contains(where: { $0.0 == name }) {
            throw error(fields.values[name], key: "issuer.accounts.\(name)", "unknown account \(name)")
        }
        return accounts
    }

    static func isPlainPrefix(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        func alphanumeric(_ byte: UInt8) -> Bool {
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
        }
        guard (1...20).contains(bytes.count), alphanumeric(bytes[0]) else { return false }
        return bytes.allSatisfy { alphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == 0x2D }
    }

    mutating func plan(_ item: YAMLItem) throws(InputError) -> Plan {
        let fields = try map(item.node, key: "plans")
        let id = try string(required(fields, "id"), key: "plans.id")
        let key = "plans[\(id)]"
        let custom =
            try fields.values["custom"].map { node throws(InputError) in
                try boolean(node, key: "\(key).custom")
            } ?? false
        var monthly: Int64?
        var cap: Int64?
        var prices: [String: Int64] = [:]
        if !custom {
            monthly = try integer(required(fields, "monthly_credits"), key: "\(key).monthly_credits")
            cap = try integer(required(fields, "bank_cap"), key: "\(key).bank_cap")
            prices = try self.prices(required(fields, "prices"), key: "\(key).prices")
        }
        let overdraftText = try string(required(fields, "overdraft"), key: "\(key).overdraft")
        guard let overdraft = OverdraftPolicy(rawValue: overdraftText) else {
            throw error(fields.values["overdraft"], key: "\(key).overdraft", "expected carry or invoice")
        }
        var overage: [String: UnitPrice] = [:]
        if let overageNode = fields.values["overage_price"] {
            overage = try self.prices(overageNode, key: "\(key).overage_price", extraDigits: UnitPrice.extraDigits)
                .mapValues { UnitPrice(scaledAmount: $0) }
        } else if overdraft == .invoice {
            throw error(item.node, key: "\(key).overage_price", "required when overdraft is invoice")
        }
        let maxAge = try fields.values["rollover_max_age_months"].map { node throws(InputError) in
            Int(try integer(node, key: "\(key).rollover_max_age_months", minimum: 1))
        }
        return Plan(
            id: PlanID(id),
            name: try fields.values["name"].map { node throws(InputError) in try string(node, key: "\(key).name") }
                ?? id,
            rank: Int(try integer(required(fields, "rank"), key: "\(key).rank", minimum: Int64(Int32.min))),
            isCustom: custom, monthlyCredits: monthly, bankCap: cap, pricesMinor: prices,
            allowsTopUps: try fields.values["topups"].map { node throws(InputError) in
                try boolean(node, key: "\(key).topups")
            } ?? false,
            rolloverMaxAgeMonths: maxAge, overdraft: overdraft, overagePrices: overage)
    }

    mutating func pack(_ item: YAMLItem) throws(InputError) -> Pack {
        let fields = try map(item.node, key: "packs")
        let id = try string(required(fields, "id"), key: "packs.id")
        let key = "packs[\(id)]"
        return Pack(
            id: PackID(id),
            credits: try integer(required(fields, "credits"), key: "\(key).credits", minimum: 1),
            pricesMinor: try prices(required(fields, "prices"), key: "\(key).prices"),
            validMonths: try fields.values["valid_months"].map { node throws(InputError) in
                Int(try integer(node, key: "\(key).valid_months", minimum: 1))
            })
    }
}
