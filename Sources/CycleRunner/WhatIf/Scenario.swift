import Invoicing
import Yams

/// A what-if scenario as its YAML file states it (README "What-if"). Nothing here is resolved
/// against the input yet: every entry keeps its line and key, so that an unknown org or plan
/// found later is still reported where the scenario says it.
public struct Scenario: Sendable {
    /// Names the output folder `whatif/<name>/`: the `name:` key, or the file name.
    public var name: String
    public var description: String?
    /// The file name errors and rejected rows cite.
    public var file: String
    var plans: [PlanPatch] = []
    var orgs: [OrgPatch] = []
    var addedChanges: [AddedChange] = []
    var removedChanges: [RemovedChange] = []
    var moves: [PlanMove] = []

    /// Where an entry stood in the scenario file.
    struct Place: Sendable {
        var line: Int?
        var key: String
    }

    /// Fields of one plan to override, or every field of a new plan. nil leaves a field as
    /// plans.yaml has it; maps of prices merge per currency.
    struct PlanPatch: Sendable {
        var id: PlanID
        var place: Place
        var name: String?
        var rank: Int?
        var custom: Bool?
        var monthlyCredits: Int64?
        var bankCap: Int64?
        var prices: [String: Int64]?
        var topUps: Bool?
        /// `.some(nil)` removes the age limit (`rollover_max_age_months: none`).
        var rolloverMaxAgeMonths: Int??
        var overdraft: OverdraftPolicy?
        var overagePrices: [String: UnitPrice]?
    }

    /// An org's custom terms to override; the price stays text until the org's currency is known.
    struct OrgPatch: Sendable {
        var id: String
        var place: Place
        var monthlyCredits: Int64?
        var bankCap: Int64?
        var price: (text: String, place: Place)?
    }

    struct AddedChange: Sendable {
        var org: String
        var at: Instant
        var plan: PlanID
        var place: Place
    }

    /// Matches plan changes of plan_changes.csv: every change of the org, narrowed by the
    /// instant and the plan when given.
    struct RemovedChange: Sendable {
        var org: String
        var at: Instant?
        var plan: PlanID?
        var place: Place
    }

    /// Every org on `from` at `at` changes to `to` at `at`.
    struct PlanMove: Sendable {
        var from: PlanID
        var to: PlanID
        var at: Instant
        var place: Place
    }

    /// True when the file asks for no change at all.
    public var isEmpty: Bool {
        plans.isEmpty && orgs.isEmpty && addedChanges.isEmpty && removedChanges.isEmpty && moves.isEmpty
    }
}

/// Reads a scenario file with the same YAML walker as plans.yaml, so every mistake names the
/// line and the key: a typo must never turn into a scenario that silently changes nothing.
public enum ScenarioReader {
    static let topKeys = [
        "name", "description", "plans", "orgs", "add_plan_changes", "remove_plan_changes", "move_all",
    ]
    static let planKeys = [
        "name", "rank", "custom", "monthly_credits", "bank_cap", "prices", "topups", "rollover_max_age_months",
        "overdraft", "overage_price",
    ]
    static let orgKeys = ["monthly_credits", "bank_cap", "price"]

    public static func read(path: String, catalog: Catalog) throws(InputError) -> Scenario {
        let file = path.split(separator: "/").last.map(String.init) ?? path
        let text: String
        do {
            text = try readTextFile(path, limitBytes: 4 << 20)
        } catch {
            throw InputError(file: file, error.message)
        }
        return try parse(text, file: file, catalog: catalog)
    }

    /// `catalog` is only used to explain a plan id written at the top level by mistake.
    public static func parse(_ text: String, file: String, catalog: Catalog) throws(InputError) -> Scenario {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw InputError(file: file, line: CatalogReader.yamlLine(error), "not readable YAML: \(error)")
        } catch {
            throw InputError(file: file, "not readable YAML: \(error)")
        }
        var walker = Walker(file: file)
        // An empty file is a scenario that changes nothing: the baseline against itself.
        guard let root else { return Scenario(name: try defaultName(file), file: file) }
        let top = try walker.map(root, key: "(top)")
        for (key, node) in top.values.sorted(by: { utf8Less($0.key, $1.key) }) where !topKeys.contains(key) {
            let hint =
                catalog.plans[PlanID(key)] != nil
                ? "; plan overrides go under plans:, e.g. plans: { \(key): { bank_cap: 2000 } }"
                : "; a scenario has \(topKeys.joined(separator: ", "))"
            throw walker.error(node, key: key, "unknown key \(key)\(hint)")
        }
        var scenario = Scenario(name: "", file: file)
        if let node = top.values["name"] {
            scenario.name = try walker.string(node, key: "name")
            guard OrgID.isValid(scenario.name) else {
                throw walker.error(
                    node, key: "name", "\(scenario.name) must be 1–64 of A-Z a-z 0-9 . _ - (it names a folder)")
            }
        } else {
            scenario.name = try defaultName(file)
        }
        if let node = top.values["description"] { scenario.description = try walker.string(node, key: "description") }
        if let node = top.values["plans"] {
            let plans = try walker.map(node, key: "plans")
            for (id, planNode) in plans.values.sorted(by: { utf8Less($0.key, $1.key) }) {
                scenario.plans.append(try walker.planPatch(planNode, id: id))
            }
        }
        if let node = top.values["orgs"] {
            let orgs = try walker.map(node, key: "orgs")
            for (id, orgNode) in orgs.values.sorted(by: { utf8Less($0.key, $1.key) }) {
                scenario.orgs.append(try walker.orgPatch(orgNode, id: id))
            }
        }
        if let node = top.values["add_plan_changes"] {
            for (position, item) in try walker.list(node, key: "add_plan_changes").enumerated() {
                let key = "add_plan_changes[\(position)]"
                let fields = try walker.entry(item.node, key: key, allowed: ["org", "at", "plan"])
                scenario.addedChanges.append(
                    Scenario.AddedChange(
                        org: try walker.string(walker.required(fields, "org"), key: "\(key).org"),
                        at: try walker.instant(walker.required(fields, "at"), key: "\(key).at"),
                        plan: PlanID(try walker.string(walker.required(fields, "plan"), key: "\(key).plan")),
                        place: Scenario.Place(line: item.node.mark?.line, key: key)))
            }
        }
        if let node = top.values["remove_plan_changes"] {
            for (position, item) in try walker.list(node, key: "remove_plan_changes").enumerated() {
                let key = "remove_plan_changes[\(position)]"
                let fields = try walker.entry(item.node, key: key, allowed: ["org", "at", "plan"])
                var removal = Scenario.RemovedChange(
                    org: try walker.string(walker.required(fields, "org"), key: "\(key).org"),
                    place: Scenario.Place(line: item.node.mark?.line, key: key))
                if let at = fields.values["at"] { removal.at = try walker.instant(at, key: "\(key).at") }
                if let plan = fields.values["plan"] {
                    removal.plan = PlanID(try walker.string(plan, key: "\(key).plan"))
                }
                scenario.removedChanges.append(removal)
            }
        }
        if let node = top.values["move_all"] {
            for (position, item) in try walker.list(node, key: "move_all").enumerated() {
                let key = "move_all[\(position)]"
                let fields = try walker.entry(item.node, key: key, allowed: ["from", "to", "at"])
                let move = Scenario.PlanMove(
                    from: PlanID(try walker.string(walker.required(fields, "from"), key: "\(key).from")),
                    to: PlanID(try walker.string(walker.required(fields, "to"), key: "\(key).to")),
                    at: try walker.instant(walker.required(fields, "at"), key: "\(key).at"),
                    place: Scenario.Place(line: item.node.mark?.line, key: key))
                if move.from == move.to {
                    throw walker.error(item.node, key: key, "from and to are the same plan \(move.from)")
                }
                scenario.moves.append(move)
            }
        }
        return scenario
    }

    /// The file name without its extension, when it can name a folder.
    static func defaultName(_ file: String) throws(InputError) -> String {
        var name = file
        if let dot = name.lastIndex(of: "."), dot != name.startIndex { name = String(name[..<dot]) }
        guard OrgID.isValid(name) else {
            throw InputError(
                file: file, line: 1, column: "name",
                "the file name \(name) cannot name the output folder; add a name: key (A-Z a-z 0-9 . _ -)")
        }
        return name
    }
}

extension Walker {
    /// A mapping whose keys must all be among `allowed`.
    mutating func entry(_ node: Node, key: String, allowed: [String]) throws(InputError) -> YAMLMap {
        let fields = try map(node, key: key)
        for (name, value) in fields.values.sorted(by: { utf8Less($0.key, $1.key) }) where !allowed.contains(name) {
            throw error(
                value, key: "\(key).\(name)", "unknown key \(name); expected \(allowed.joined(separator: ", "))")
        }
        return fields
    }

    /// An RFC 3339 timestamp with an offset, or a date meaning 00:00Z of that day.
    mutating func instant(_ node: Node, key: String) throws(InputError) -> Instant {
        let text = try string(node, key: key)
        if let instant = Instant.parse(text) { return instant }
        if text.utf8.count == 10, let date = CivilDate.parse(text) { return Instant(date: date) }
        throw error(node, key: key, "\(text) is neither a date (2026-09-01) nor a timestamp with an offset")
    }

    mutating func planPatch(_ node: Node, id: String) throws(InputError) -> Scenario.PlanPatch {
        let key = "plans.\(id)"
        let fields = try entry(node, key: key, allowed: ScenarioReader.planKeys)
        var patch = Scenario.PlanPatch(id: PlanID(id), place: Scenario.Place(line: node.mark?.line, key: key))
        if let value = fields.values["name"] { patch.name = try string(value, key: "\(key).name") }
        if let value = fields.values["rank"] {
            patch.rank = Int(try integer(value, key: "\(key).rank", minimum: Int64(Int32.min)))
        }
        if let value = fields.values["custom"] { patch.custom = try boolean(value, key: "\(key).custom") }
        if let value = fields.values["monthly_credits"] {
            patch.monthlyCredits = try integer(value, key: "\(key).monthly_credits")
        }
        if let value = fields.values["bank_cap"] { patch.bankCap = try integer(value, key: "\(key).bank_cap") }
        if let value = fields.values["prices"] { patch.prices = try prices(value, key: "\(key).prices") }
        if let value = fields.values["topups"] { patch.topUps = try boolean(value, key: "\(key).topups") }
        if let value = fields.values["rollover_max_age_months"] {
            let text = try string(value, key: "\(key).rollover_max_age_months")
            if ["none", "null", "~", ""].contains(text.lowercased()) {
                patch.rolloverMaxAgeMonths = .some(nil)
            } else {
                patch.rolloverMaxAgeMonths = .some(
                    Int(try integer(value, key: "\(key).rollover_max_age_months", minimum: 1)))
            }
        }
        if let value = fields.values["overdraft"] {
            let text = try string(value, key: "\(key).overdraft")
            guard let policy = OverdraftPolicy(rawValue: text) else {
                throw error(value, key: "\(key).overdraft", "expected carry or invoice")
            }
            patch.overdraft = policy
        }
        if let value = fields.values["overage_price"] {
            patch.overagePrices = try prices(value, key: "\(key).overage_price", extraDigits: UnitPrice.extraDigits)
                .mapValues { UnitPrice(scaledAmount: $0) }
        }
        return patch
    }

    mutating func orgPatch(_ node: Node, id: String) throws(InputError) -> Scenario.OrgPatch {
        let key = "orgs.\(id)"
        let fields = try entry(node, key: key, allowed: ScenarioReader.orgKeys)
        var patch = Scenario.OrgPatch(id: id, place: Scenario.Place(line: node.mark?.line, key: key))
        if let value = fields.values["monthly_credits"] {
            patch.monthlyCredits = try integer(value, key: "\(key).monthly_credits")
        }
        if let value = fields.values["bank_cap"] { patch.bankCap = try integer(value, key: "\(key).bank_cap") }
        if let value = fields.values["price"] {
            patch.price = (
                try string(value, key: "\(key).price"), Scenario.Place(line: value.mark?.line, key: "\(key).price")
            )
        }
        if patch.monthlyCredits == nil, patch.bankCap == nil, patch.price == nil {
            throw error(node, key: key, "expected at least one of monthly_credits, bank_cap, price")
        }
        return patch
    }
}
