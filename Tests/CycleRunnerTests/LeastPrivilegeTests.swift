// Proves the ledger and outputs are owner-only by default and group-readable only on request,
// and that XML parsing never expands external entities or loads anything from outside.
import Foundation
import Invoicing
import Testing

@testable import CycleRunnerCore

@Suite struct LeastPrivilegeTests {
    static func modes(_ folder: String) -> Set<Int> {
        // The lock file beside the ledger is always owner-only: it holds no data, only the lock.
        let files = (FileManager.default.enumerator(atPath: folder)?.allObjects as? [String] ?? [])
            .filter { !$0.hasSuffix(".lock") }
        return Set(
            files.compactMap { relative in
                (try? FileManager.default.attributesOfItem(atPath: folder + "/" + relative))?[.posixPermissions]
                    as? Int
            })
    }

    @Test func outputsAreOwnerOnlyUnlessGroupReadableIsAsked() throws {
        let (input, last) = try Fixtures.generatedInput(seed: 71, orgs: 2, months: 2, events: 3)
        let owner = TestPaths.temporaryFolder("owner-only")
        #expect(try CLI.run(["close", "--through", last.description, "--input", input, "--output", owner]).status == 0)
        #expect(Self.modes(owner).isSubset(of: [0o600, 0o700]), "\(Self.modes(owner).map { String($0, radix: 8) })")
        let group = TestPaths.temporaryFolder("group-readable")
        let result = try CLI.run([
            "close", "--through", last.description, "--input", input, "--output", group, "--group-readable",
        ])
        #expect(result.status == 0)
        #expect(Self.modes(group).isSubset(of: [0o640, 0o750]), "\(Self.modes(group).map { String($0, radix: 8) })")
    }

    @Test func schemaValidationNeverExpandsExternalEntities() throws {
        let secret = TestPaths.temporaryFolder("secret") + "/secret.txt"
        try "TOP-SECRET".write(toFile: secret, atomically: true, encoding: .utf8)
        let schema = TestPaths.temporaryFolder("schema") + "/note.xsd"
        try """
        <xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
          <xs:element name="note"><xs:simpleType><xs:restriction base="xs:string">
            <xs:maxLength value="3"/></xs:restriction></xs:simpleType></xs:element>
        </xs:schema>
        """.write(toFile: schema, atomically: true, encoding: .utf8)
        let validator = try SchemaValidator(schemaPath: schema)
        let hostile = """
            <?xml version="1.0"?>
            <!DOCTYPE note [<!ENTITY leak SYSTEM "file://\(secret)"><!ENTITY web SYSTEM "http://127.0.0.1:9/x">]>
            <note>&leak;&web;</note>
            """
        let problems = validator.validate(Array(hostile.utf8))
        #expect(!problems.joined().contains("TOP-SECRET"), "the external entity was expanded")
    }
}
