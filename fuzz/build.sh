#!/usr/bin/env bash
# Builds the two libFuzzer targets with the toolchain's swiftc and clang:
#   fuzz/.out/fuzz-csv   CSVReader (Sources/CycleRunner/Input/CSVReader.swift)
#   fuzz/.out/fuzz-yaml  CatalogReader.parse (plans.yaml), with Yams and libyaml
# Both are compiled with -sanitize=fuzzer,address and -Onone, so Swift's bounds checks on
# unsafe buffers stay on and AddressSanitizer catches any read past the input.
# Needs the package's dependencies checked out (`swift build` or `swift package resolve`).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=fuzz/.out
mkdir -p "$out/objects"
yams=.build/checkouts/Yams/Sources
[ -d "$yams" ] || swift package resolve
sanitize=(-sanitize=fuzzer,address -Onone -g -parse-as-library)
xml=(-I Sources/CLibXML2 -I /usr/include/libxml2)

echo "== fuzz-csv"
swiftc "${sanitize[@]}" -module-name FuzzCSV -o "$out/fuzz-csv" \
    Sources/CycleRunner/Input/CSVReader.swift fuzz/CSVFuzz.swift

echo "== Invoicing (module)"
swiftc -sanitize=address -Onone -g -parse-as-library -module-name Invoicing -emit-module \
    -emit-module-path "$out/Invoicing.swiftmodule" -emit-library -static -o "$out/libInvoicing.a" \
    "${xml[@]}" Sources/Invoicing/*.swift

echo "== libyaml and Yams (module)"
for source in "$yams"/CYaml/src/*.c; do
    clang -fsanitize=fuzzer-no-link,address -g -O1 -DYAML_DECLARE_STATIC -I "$yams/CYaml/include" -c "$source" \
        -o "$out/objects/$(basename "$source" .c).o"
done
ar rcs "$out/libCYaml.a" "$out"/objects/*.o
swiftc -sanitize=address -Onone -g -parse-as-library -module-name Yams -emit-module \
    -emit-module-path "$out/Yams.swiftmodule" -emit-library -static -o "$out/libYams.a" \
    -D SWIFT_PACKAGE -Xcc -DYAML_DECLARE_STATIC -I "$yams/CYaml/include" "$yams"/Yams/*.swift

echo "== fuzz-yaml"
swiftc "${sanitize[@]}" -module-name FuzzYAML -o "$out/fuzz-yaml" \
    -I "$out" -I "$yams/CYaml/include" "${xml[@]}" -L "$out" -lInvoicing -lYams -lCYaml -lxml2 \
    Sources/CycleRunner/Input/CatalogReader.swift Sources/CycleRunner/Input/InputError.swift \
    Sources/CycleRunner/Input/TextFile.swift Sources/CycleRunner/Model/*.swift fuzz/YAMLFuzz.swift
echo "built $root/$out/fuzz-csv and $root/$out/fuzz-yaml"
