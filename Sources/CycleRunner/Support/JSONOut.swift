import Invoicing

/// A type that writes its own JSON, members in key order, in the bytes `SortedJSONEncoder` and
/// Foundation's `JSONEncoder` (sorted keys) write for its `Codable` form.
///
/// The ledger's period records and org states and the statements are encoded tens of thousands
/// of times a close. Through `Codable`, each object and each value is a round of existential
/// containers, generic calls and retains: a third of the JSON's time. Their writers here call
/// one concrete function a member. `DirectJSONTests` checks every one of them against Foundation
/// on the rows and statements of real closes, so a member missing from a writer, or out of
/// order, fails there.
protocol JSONWritable {
    func writeJSON(to out: inout JSONOut)
}

/// The bytes being written and where the writer is in them.
struct JSONOut {
    private(set) var bytes: [UInt8] = []
    let prettyPrinted: Bool
    let escapesSlashes: Bool
    /// How many containers are open.
    private var depth = 0
    /// Whether the open container has no member or element yet.
    private var isEmpty = true

    init(prettyPrinted: Bool = false, escapesSlashes: Bool = true, capacity: Int = 1024) {
        self.prettyPrinted = prettyPrinted
        self.escapesSlashes = escapesSlashes
        bytes.reserveCapacity(capacity)
    }

    /// The JSON of `value`.
    static func encode<Value: JSONWritable>(
        _ value: Value, prettyPrinted: Bool = false, escapesSlashes: Bool = true
    ) -> [UInt8] {
        var out = JSONOut(prettyPrinted: prettyPrinted, escapesSlashes: escapesSlashes)
        value.writeJSON(to: &out)
        return out.bytes
    }

    // MARK: Containers

    mutating func beginObject() { open(0x7B) }
    mutating func endObject() { close(0x7D) }
    mutating func beginArray() { open(0x5B) }
    mutating func endArray() { close(0x5D) }

    private mutating func open(_ bracket: UInt8) {
        bytes.append(bracket)
        depth += 1
        isEmpty = true
    }

    /// Foundation's pretty form puts an empty container's brackets two lines apart.
    private mutating func close(_ bracket: UInt8) {
        depth -= 1
        if prettyPrinted {
            if isEmpty { bytes.append(0x0A) }
            newLine()
        }
        bytes.append(bracket)
        // The container just closed is a value of the one around it, which is not empty now.
        isEmpty = false
    }

    private mutating func newLine() {
        bytes.append(0x0A)
        for _ in 0..<depth { bytes.append(contentsOf: [0x20, 0x20]) }
    }

    /// The separator and indentation before a member or an element.
    private mutating func next() {
        if !isEmpty { bytes.append(0x2C) }
        isEmpty = false
    }

    /// Starts a member whose key needs no escaping (our keys are ASCII identifiers).
    mutating func key(_ key: StaticString) {
        next()
        if prettyPrinted { newLine() }
        bytes.append(0x22)
        key.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(0x22)
        appendColon()
    }

    /// Starts a member whose key is data (a dictionary's key), escaped as any string.
    mutating func key(text: String) {
        next()
        if prettyPrinted { newLine() }
        JSONByteWriter.append(text, escapingSlashes: escapesSlashes, to: &bytes)
        appendColon()
    }

    private mutating func appendColon() {
        if prettyPrinted {
            bytes.append(contentsOf: [0x20, 0x3A, 0x20])
        } else {
            bytes.append(0x3A)
        }
    }

    /// Starts an element of an array.
    mutating func element() {
        next()
        if prettyPrinted { newLine() }
    }

    // MARK: Members

    mutating func member<Value: JSONWritable>(_ name: StaticString, _ value: Value) {
        key(name)
        value.writeJSON(to: &self)
    }

    /// A member that synthesized `Codable` leaves out when it is nil.
    mutating func member<Value: JSONWritable>(_ name: StaticString, ifPresent value: Value?) {
        if let value { member(name, value) }
    }

    // MARK: Values

    mutating func string(_ text: String) { JSONByteWriter.append(text, escapingSlashes: escapesSlashes, to: &bytes) }

    mutating func integer(_ number: Int64) { appendDecimal(number, to: &bytes) }

    mutating func bool(_ value: Bool) {
        if value {
            bytes.append(contentsOf: [0x74, 0x72, 0x75, 0x65])
        } else {
            bytes.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65])
        }
    }

    /// An array of `values`, as `[Element]`'s `Codable` form writes it.
    mutating func array<Element: JSONWritable>(_ values: [Element]) {
        beginArray()
        for value in values {
            element()
            value.writeJSON(to: &self)
        }
        endArray()
    }

    /// A dictionary, as an object in key order (bytes of UTF-8), as `Codable` writes one whose
    /// keys are texts or ids.
    mutating func object<Key: JSONKey, Value: JSONWritable>(_ values: [Key: Value]) {
        beginObject()
        for (key, value) in values.sorted(by: { utf8Less($0.key.jsonKey, $1.key.jsonKey) }) {
            self.key(text: key.jsonKey)
            value.writeJSON(to: &self)
        }
        endObject()
    }
}

extension String: JSONWritable {
    func writeJSON(to out: inout JSONOut) { out.string(self) }
}

extension Int64: JSONWritable {
    func writeJSON(to out: inout JSONOut) { out.integer(self) }
}

extension Int: JSONWritable {
    func writeJSON(to out: inout JSONOut) { out.integer(Int64(self)) }
}

extension Bool: JSONWritable {
    func writeJSON(to out: inout JSONOut) { out.bool(self) }
}

extension Array: JSONWritable where Element: JSONWritable {
    func writeJSON(to out: inout JSONOut) { out.array(self) }
}

extension Dictionary: JSONWritable where Key: JSONKey, Value: JSONWritable {
    func writeJSON(to out: inout JSONOut) { out.object(self) }
}

/// A dictionary key: the text `Codable` uses for it as a JSON object's key.
protocol JSONKey: Hashable {
    var jsonKey: String { get }
}

extension String: JSONKey {
    var jsonKey: String { self }
}

extension CivilDate: JSONWritable {
    func writeJSON(to out: inout JSONOut) { out.string(description) }
}

extension Instant: JSONWritable {
    func writeJSON(to out: inout JSONOut) { out.integer(microseconds) }
}
