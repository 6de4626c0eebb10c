import Foundation
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

/// Bytes in a buffer owned by this object, for a ledger row's value (JSON text, or a compact
/// record): SQLite is given their address for the length of the row's insert instead of a
/// copy, and they are never turned into a `String` (which checks and copies them again).
final class OwnedText: @unchecked Sendable {
    // Never changed after `init`; freed with the object.
    let start: UnsafeMutablePointer<UInt8>
    let count: Int

    /// Takes over `start`, which must have come from `malloc` (it is given back with `free`).
    init(taking start: UnsafeMutablePointer<UInt8>, count: Int) {
        self.start = start
        self.count = count
    }

    /// Takes over a writer's buffer (`JSONOut`, `CompactOut`). A row's bytes are held until
    /// the row is inserted, a few thousand rows at a time: the room left over from doubling (up
    /// to half the buffer) is given back first.
    convenience init(shrinking start: UnsafeMutablePointer<UInt8>, count: Int) {
        self.init(taking: OwnedText.reallocate(start, count), count: count)
    }

    deinit { free(start) }

    /// `realloc` (which takes nil for a new buffer), as bytes; the writers' buffers are the C
    /// library's so that they can grow, and shrink to their bytes, in place.
    static func reallocate(_ buffer: UnsafeMutablePointer<UInt8>?, _ size: Int) -> UnsafeMutablePointer<UInt8> {
        guard let raw = realloc(buffer, max(size, 1)) else { preconditionFailure("out of memory") }
        return raw.assumingMemoryBound(to: UInt8.self)
    }

    /// Grows a writer's buffer by doubling until it holds `needed` bytes.
    static func grow(_ start: inout UnsafeMutablePointer<UInt8>, capacity: inout Int, toHold needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        start = reallocate(start, newCapacity)
        capacity = newCapacity
    }

    var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: start, count: count) }

    var string: String { String(decoding: bytes, as: UTF8.self) }
}

/// The bytes being written and where the writer is in them. The bytes are held in a buffer of
/// the writer's own, not an array: each of the dozens of appends a row makes went through the
/// array's generic append (a uniqueness check, a capacity check and a copy loop), a third of
/// the ledger's encoding. `encodedText` hands the buffer over without a copy.
struct JSONOut: ~Copyable {
    private var start: UnsafeMutablePointer<UInt8>
    private var count = 0
    private var capacity: Int
    let prettyPrinted: Bool
    let escapesSlashes: Bool
    /// How many containers are open.
    private var depth = 0
    /// Whether the open container has no member or element yet.
    private var isEmpty = true

    init(prettyPrinted: Bool = false, escapesSlashes: Bool = true, capacity: Int = 1024) {
        self.prettyPrinted = prettyPrinted
        self.escapesSlashes = escapesSlashes
        self.capacity = max(capacity, 16)
        start = OwnedText.reallocate(nil, self.capacity)
    }

    deinit { free(start) }

    /// The JSON of `value`.
    static func encode<Value: JSONWritable>(
        _ value: Value, prettyPrinted: Bool = false, escapesSlashes: Bool = true
    ) -> [UInt8] {
        var out = JSONOut(prettyPrinted: prettyPrinted, escapesSlashes: escapesSlashes)
        value.writeJSON(to: &out)
        return out.bytes
    }

    /// The JSON of `value`, in a buffer of its own (a ledger row's text).
    static func encodedText<Value: JSONWritable>(_ value: Value) -> OwnedText {
        var out = JSONOut(capacity: 4096)
        value.writeJSON(to: &out)
        return out.takeText()
    }

    /// A copy of the bytes written so far.
    var bytes: [UInt8] { Array(UnsafeBufferPointer(start: start, count: count)) }

    /// The bytes written, handed over with their buffer.
    consuming func takeText() -> OwnedText {
        let text = OwnedText(shrinking: start, count: count)
        discard self
        return text
    }

    // MARK: Bytes

    /// Makes room for `more` bytes after those written.
    @inline(__always)
    private mutating func reserve(_ more: Int) {
        if count + more > capacity { grow(count + more) }
    }

    private mutating func grow(_ needed: Int) { OwnedText.grow(&start, capacity: &capacity, toHold: needed) }

    @inline(__always)
    private mutating func append(_ byte: UInt8) {
        reserve(1)
        start[count] = byte
        count += 1
    }

    @inline(__always)
    private mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        reserve(bytes.count)
        (start + count).update(from: source, count: bytes.count)
        count += bytes.count
    }

    /// Appends `text` as a JSON string, escaped as Foundation escapes it (`JSONEscaping`).
    private mutating func appendString(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            // The quotes and the text, when nothing needs escaping, as most texts do not.
            reserve(utf8.count + 2)
            append(0x22)
            JSONEscaping.escape(utf8, escapingSlashes: escapesSlashes) { append($0) }
            append(0x22)
        }
    }

    // MARK: Containers

    mutating func beginObject() { open(0x7B) }
    mutating func endObject() { close(0x7D) }
    mutating func beginArray() { open(0x5B) }
    mutating func endArray() { close(0x5D) }

    private mutating func open(_ bracket: UInt8) {
        append(bracket)
        depth += 1
        isEmpty = true
    }

    /// Foundation's pretty form puts an empty container's brackets two lines apart.
    private mutating func close(_ bracket: UInt8) {
        depth -= 1
        if prettyPrinted {
            if isEmpty { append(0x0A) }
            newLine()
        }
        append(bracket)
        // The container just closed is a value of the one around it, which is not empty now.
        isEmpty = false
    }

    /// A line feed and two spaces a level, in one reservation: statements are pretty-printed,
    /// and a byte at a time (each with its own capacity test) this was 0.5 % of a close.
    private mutating func newLine() {
        let indent = 2 * depth
        reserve(1 + indent)
        start[count] = 0x0A
        (start + count + 1).initialize(repeating: 0x20, count: indent)
        count += 1 + indent
    }

    /// The separator and indentation before a member or an element.
    private mutating func next() {
        if !isEmpty { append(0x2C) }
        isEmpty = false
    }

    /// Starts a member whose key needs no escaping (our keys are ASCII identifiers).
    mutating func key(_ key: StaticString) {
        guard !prettyPrinted else {
            next()
            newLine()
            key.withUTF8Buffer { name in
                // The quoted name and " : " in one reservation.
                reserve(name.count + 5)
                start[count] = 0x22
                if let base = name.baseAddress { (start + count + 1).update(from: base, count: name.count) }
                count += 1 + name.count
                start[count] = 0x22
                start[count + 1] = 0x20
                start[count + 2] = 0x3A
                start[count + 3] = 0x20
                count += 4
            }
            return
        }
        // The separator, the quoted name and the colon in one reservation: a ledger row has
        // dozens of members, and byte by byte these were a fifth of its encoding.
        key.withUTF8Buffer { name in
            reserve(name.count + 4)
            var position = count
            if !isEmpty {
                start[position] = 0x2C
                position += 1
            }
            start[position] = 0x22
            if let base = name.baseAddress { (start + position + 1).update(from: base, count: name.count) }
            position += 1 + name.count
            start[position] = 0x22
            start[position + 1] = 0x3A
            count = position + 2
        }
        isEmpty = false
    }

    /// Starts a member whose key is data (a dictionary's key), escaped as any string.
    mutating func key(text: String) {
        next()
        if prettyPrinted { newLine() }
        appendString(text)
        appendColon()
    }

    private mutating func appendColon() {
        if prettyPrinted {
            append(0x20)
            append(0x3A)
            append(0x20)
        } else {
            append(0x3A)
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

    mutating func string(_ text: String) { appendString(text) }

    mutating func integer(_ number: Int64) {
        reserve(20)
        var magnitude = number.magnitude
        var digits = 1
        var scale: UInt64 = 10
        while digits < 20, magnitude >= scale {
            digits += 1
            scale = scale &* 10
        }
        if number < 0 { append(0x2D) }
        var position = count + digits
        count = position
        repeat {
            position -= 1
            start[position] = UInt8(truncatingIfNeeded: 0x30 + magnitude % 10)
            magnitude /= 10
        } while magnitude > 0
    }

    /// A date as the string `description` gives (YYYY-MM-DD), which needs no escaping, written
    /// without making the string first.
    mutating func date(_ date: CivilDate) {
        reserve(12)
        guard date.writeISOBytes(into: UnsafeMutableBufferPointer(start: start + count + 1, count: 10), at: 0) else {
            return appendString(date.description)
        }
        start[count] = 0x22
        start[count + 11] = 0x22
        count += 12
    }

    mutating func bool(_ value: Bool) {
        let text: StaticString = value ? "true" : "false"
        text.withUTF8Buffer { append($0) }
    }

    /// An array of `values`, as `[Element]`'s `Codable` form writes it. Each element is
    /// written where it is: iterating the array copied each one (retaining its texts) first.
    mutating func array<Element: JSONWritable>(_ values: [Element]) {
        beginArray()
        values.withUnsafeBufferPointer { elements in
            for index in elements.indices {
                element()
                elements[index].writeJSON(to: &self)
            }
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

    /// A dictionary whose keys are nearly always exactly `usualKeys`, given in the order
    /// `object` sorts keys: written in that order, each value found by its key, when the keys
    /// are those; any other dictionary is written by `object`. The same bytes either way, without
    /// sorting every statement's thirty summary entries (a twentieth of writing statements).
    mutating func object<Value: JSONWritable>(_ values: [String: Value], usualKeys: [String]) {
        guard values.count == usualKeys.count, usualKeys.allSatisfy({ values[$0] != nil }) else {
            return object(values)
        }
        beginObject()
        for key in usualKeys {
            self.key(text: key)
            values[key]!.writeJSON(to: &self)
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
    func writeJSON(to out: inout JSONOut) { out.date(self) }
}

extension Instant: JSONWritable {
    func writeJSON(to out: inout JSONOut) { out.integer(microseconds) }
}
