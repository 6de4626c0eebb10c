// libFuzzer entry for the plans.yaml loader: CatalogReader.parse must turn any input into a
// Catalog or an InputError, never crash, hang or read past the input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        let catalog = try CatalogReader.parse(text, file: "plans.yaml")
        _ = catalog.plans.count
    } catch {
        _ = error.description
    }
    return 0
}
