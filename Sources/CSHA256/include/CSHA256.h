// SHA-256 block compression for the ledger's hash chain (Sources/CycleRunner/Ledger/SHA256.swift).
// Swift keeps the buffering, the length and the padding; C only runs the rounds, because that is
// where the time goes and where the CPU's SHA instructions help.
#ifndef CSHA256_H
#define CSHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__clang__)
#pragma clang assume_nonnull begin
#endif

/// Compresses `blockCount` whole 64-byte blocks at `data` into the eight state words `state`
/// (FIPS 180-4, section 6.2.2). It uses the x86 SHA extensions when the CPU has them, and the
/// portable routine otherwise; both give the same result.
void csha256_compress_blocks(uint32_t *state, const void *data, size_t blockCount);

/// The portable routine alone, so that a test can check the fast path against it.
void csha256_compress_blocks_portable(uint32_t *state, const void *data, size_t blockCount);

/// Whether `csha256_compress_blocks` uses the SHA extensions on this CPU, so that a test can
/// tell a working fast path from a silent fallback.
bool csha256_uses_sha_extensions(void);

#if defined(__clang__)
#pragma clang assume_nonnull end
#endif

#endif
