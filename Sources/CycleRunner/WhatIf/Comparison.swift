import Invoicing

/// What a what-if compares, per org and period. Credits are summed across currencies; the
/// money measures are in the org's currency and only ever summed within one currency.
public enum WhatIfMeasure: Int, CaseIterable, Sendable {
    case usageCredits
    case rolledOver
    case expiredCap
    case expiredAge
    case overdraft
    case overageBilled
    /// Net of documents issued in the period: invoices minus credit notes, before tax.
    case netInvoicedMinor
    /// The same with tax: what the customer is asked to pay.
    case totalInvoicedMinor

    public var column: String {
        switch self {
        case .usageCredits: "usage_credits"
        case .rolledOver: "rolled_over"
        case .expiredCap: "expired_cap"
        case .expiredAge: "expired_age"
        case .overdraft: "overdraft"
        case .overageBilled: "overage_billed"
        case .netInvoicedMinor: "net_invoiced_minor"
        case .totalInvoicedMinor: "total_invoiced_minor"
        }
    }

    public var isMoney: Bool { self == .netInvoicedMinor || self == .totalInvoicedMinor }
}

/// The measures of one row on one side, indexed by `WhatIfMeasure.rawValue`.
public struct MeasureValues: Sendable, Hashable {
    public var values = [Int64](repeating: 0, count: WhatIfMeasure.allCases.count)

    public subscript(_ measure: WhatIfMeasure) -> Int64 {
        get { values[measure.rawValue] }
        set { values[measure.rawValue] = newValue }
    }

    mutating func add(_ other: MeasureValues) {
        for index in values.indices { values[index] += other.values[index] }
    }

    /// Adds a document to the money measures: invoices count up, credit notes down.
    mutating func add(_ document: Document) {
        let sign: Int64 = document.kind == .invoice ? 1 : -1
        self[.netInvoicedMinor] += sign * document.netMinor
        self[.totalInvoicedMinor] += sign * document.totalMinor
    }
}

/// One org and period, on both sides. Periods line up because renewal dates depend only on
/// the org's start date, which no scenario changes.
public struct ComparisonRow: Sendable, Hashable {
    public var orgId: OrgID
    public var periodStart: CivilDate
    public var periodEnd: CivilDate
    /// True for the period still open at the horizon (its renewal comes after --through).
    public var isOpen: Bool
    public var currencyCode: String
    /// The plan as in period-summary.csv: in effect after the renewal that ends the period
    /// (for the open period, in effect at the horizon).
    public var baselinePlan: PlanID
    public var scenarioPlan: PlanID
    public var baseline: MeasureValues
    public var scenario: MeasureValues

    public func difference(_ measure: WhatIfMeasure) -> Int64 { scenario[measure] - baseline[measure] }
    public var changed: Bool { baseline != scenario || baselinePlan != scenarioPlan }
}

/// Rows summed by a key: (baseline plan, currency), a currency, or everything.
public struct ComparisonTotal: Sendable, Hashable {
    public enum Group: String, Sendable {
        case plan
        case currency
        /// Every row; its money measures stay empty, since currencies are never added up.
        case all
    }

    public var group: Group
    public var planId: PlanID?
    public var currencyCode: String?
    public var orgs: Int
    public var periods: Int
    public var changedOrgs: Int
    public var baseline: MeasureValues
    public var scenario: MeasureValues

    public func difference(_ measure: WhatIfMeasure) -> Int64 { scenario[measure] - baseline[measure] }
}

public struct WhatIfComparison: Sendable {
    public var rows: [ComparisonRow]
    public var totals: [ComparisonTotal]

    /// Lines both sides up per org and period; documents go to the period they were issued
    /// in ([start, end), as on statements).
    static func build(baseline: ReplaySide, scenario: ReplaySide, directory: OrgDirectory) -> WhatIfComparison {
        struct Side {
            var periods: [OrgID: [PeriodRecord]] = [:]
            var open: [OrgID: OpenPeriod] = [:]
            var documents: [String: [Document]] = [:]

            init(_ replay: ReplaySide) {
                for period in replay.periods { periods[period.orgId, default: []].append(period) }
                for period in replay.openPeriods { open[period.orgId] = period }
                for document in replay.documents { documents[document.orgId, default: []].append(document) }
            }
        }
        let sides = (Side(baseline), Side(scenario))
        var rows: [ComparisonRow] = []
        for profile in directory.profiles {
            let id = profile.id
            var orgRows: [ComparisonRow] = []
            let basePeriods = sides.0.periods[id] ?? []
            let scenarioPeriods = sides.1.periods[id] ?? []
            var byEnd: [CivilDate: (PeriodRecord?, PeriodRecord?)] = [:]
            for period in basePeriods { byEnd[period.periodEnd, default: (nil, nil)].0 = period }
            for period in scenarioPeriods { byEnd[period.periodEnd, default: (nil, nil)].1 = period }
            for end in byEnd.keys.sorted() {
                let (left, right) = byEnd[end]!
                let any = (left ?? right)!
                orgRows.append(
                    ComparisonRow(
                        orgId: id, periodStart: any.periodStart, periodEnd: end, isOpen: false,
                        currencyCode: profile.currencyCode, baselinePlan: left?.planId ?? any.planId,
                        scenarioPlan: right?.planId ?? any.planId, baseline: measures(left),
                        scenario: measures(right)))
            }
            let openLeft = sides.0.open[id]
            let openRight = sides.1.open[id]
            if let any = openLeft ?? openRight {
                orgRows.append(
                    ComparisonRow(
                        orgId: id, periodStart: any.start, periodEnd: any.end, isOpen: true,
                        currencyCode: profile.currencyCode, baselinePlan: openLeft?.planId ?? any.planId,
                        scenarioPlan: openRight?.planId ?? any.planId, baseline: measures(openLeft),
                        scenario: measures(openRight)))
            }
            assign(sides.0.documents[id.rawValue] ?? [], to: &orgRows, \.baseline)
            assign(sides.1.documents[id.rawValue] ?? [], to: &orgRows, \.scenario)
            rows.append(contentsOf: orgRows)
        }
        return WhatIfComparison(rows: rows, totals: totals(rows))
    }

    static func measures(_ period: PeriodRecord?) -> MeasureValues {
        var values = MeasureValues()
        guard let period else { return values }
        values[.usageCredits] = period.usageCredits
        values[.rolledOver] = period.rolledOver
        values[.expiredCap] = period.expiredCap
        values[.expiredAge] = period.expiredAge
        values[.overdraft] = period.overdraft
        values[.overageBilled] = period.overageBilled
        return values
    }

    /// The open period has had no renewal yet: nothing rolled, expired or billed as overage.
    static func measures(_ period: OpenPeriod?) -> MeasureValues {
        var values = MeasureValues()
        guard let period else { return values }
        values[.usageCredits] = period.usageCredits
        values[.overdraft] = period.overdraft
        return values
    }

    static func assign(
        _ documents: [Document], to rows: inout [ComparisonRow], _ side: WritableKeyPath<ComparisonRow, MeasureValues>
    ) {
        for document in documents {
            // Every document is issued at or after the org's start and before the horizon, so
            // one row holds it; the last row is only a guard against a gap that cannot happen.
            let index =
                rows.firstIndex { document.issueDate >= $0.periodStart && document.issueDate < $0.periodEnd }
                ?? rows.indices.last
            guard let index else { continue }
            rows[index][keyPath: side].add(document)
        }
    }

    static func totals(_ rows: [ComparisonRow]) -> [ComparisonTotal] {
        struct Accumulator {
            var orgs: Set<OrgID> = []
            var changed: Set<OrgID> = []
            var periods = 0
            var baseline = MeasureValues()
            var scenario = MeasureValues()

            mutating func add(_ row: ComparisonRow) {
                orgs.insert(row.orgId)
                if row.changed { changed.insert(row.orgId) }
                periods += 1
                baseline.add(row.baseline)
                scenario.add(row.scenario)
            }
        }
        var byPlan: [String: Accumulator] = [:]
        var byCurrency: [String: Accumulator] = [:]
        var all = Accumulator()
        for row in rows {
            byPlan[row.baselinePlan.rawValue + "\u{1F}" + row.currencyCode, default: Accumulator()].add(row)
            byCurrency[row.currencyCode, default: Accumulator()].add(row)
            all.add(row)
        }
        func total(_ group: ComparisonTotal.Group, _ plan: PlanID?, _ currency: String?, _ sum: Accumulator)
            -> ComparisonTotal
        {
            ComparisonTotal(
                group: group, planId: plan, currencyCode: currency, orgs: sum.orgs.count, periods: sum.periods,
                changedOrgs: sum.changed.count, baseline: sum.baseline, scenario: sum.scenario)
        }
        var result: [ComparisonTotal] = []
        for key in byPlan.keys.sorted(by: utf8Less) {
            let parts = key.split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init)
            result.append(total(.plan, PlanID(parts[0]), parts[1], byPlan[key]!))
        }
        for code in byCurrency.keys.sorted(by: utf8Less) {
            result.append(total(.currency, nil, code, byCurrency[code]!))
        }
        var everything = total(.all, nil, nil, all)
        for measure in WhatIfMeasure.allCases where measure.isMoney {
            everything.baseline[measure] = 0
            everything.scenario[measure] = 0
        }
        result.append(everything)
        return result
    }

    // MARK: CSV

    static func measureHeader() -> [String] {
        WhatIfMeasure.allCases.flatMap { measure in
            [measure.column + "_baseline", measure.column + "_scenario", measure.column + "_diff"]
        }
    }

    static func measureCells(_ baseline: MeasureValues, _ scenario: MeasureValues, money: Bool = true) -> [String] {
        WhatIfMeasure.allCases.flatMap { measure -> [String] in
            if measure.isMoney, !money { return ["", "", ""] }
            return [
                String(baseline[measure]), String(scenario[measure]), String(scenario[measure] - baseline[measure]),
            ]
        }
    }

    /// One CSV line: ids and plan ids come from the input and get the spreadsheet-formula
    /// neutralising; dates and numbers are our own and are written as they are.
    static func csvLine(text: [String], plain: [String]) -> String {
        (text.map { CSVWriter.cell($0) } + plain.map { CSVWriter.cell($0, isText: false) })
            .joined(separator: ",") + "\n"
    }

    /// comparison.csv: one row per org and period, sorted by org, then period end.
    public func comparisonCSV() -> String {
        var text = CSVWriter.line(
            [
                "org_id", "period_start", "period_end", "period", "currency", "baseline_plan_id", "scenario_plan_id",
                "changed",
            ] + Self.measureHeader())
        for row in rows {
            // Dates, the period status, yes/no and numbers never need quotes or neutralising.
            let identity = [row.currencyCode, row.baselinePlan.rawValue, row.scenarioPlan.rawValue]
            let cells =
                [CSVWriter.cell(row.orgId.rawValue), row.periodStart.description, row.periodEnd.description]
                + [row.isOpen ? "open" : "closed"] + identity.map { CSVWriter.cell($0) }
                + [row.changed ? "yes" : "no"] + Self.measureCells(row.baseline, row.scenario)
            text += cells.joined(separator: ",") + "\n"
        }
        return text
    }

    /// totals.csv: by baseline plan and currency, then by currency, then all rows (credits only).
    public func totalsCSV() -> String {
        var text = CSVWriter.line(
            ["group", "plan_id", "currency", "orgs", "changed_orgs", "periods"] + Self.measureHeader())
        for total in totals {
            let counts = [String(total.orgs), String(total.changedOrgs), String(total.periods)]
            text += Self.csvLine(
                text: [total.group.rawValue, total.planId?.rawValue ?? "", total.currencyCode ?? ""],
                plain: counts + Self.measureCells(total.baseline, total.scenario, money: total.group != .all))
        }
        return text
    }
}
