// SHA-256 block compression (FIPS 180-4, section 6.2.2), in two versions that compute the same
// function: one with the x86 SHA extensions, which run the rounds in hardware and are several
// times faster, and a portable one for every other CPU. The SHA-extension version follows the
// well-known public-domain routine (Intel's white paper, Jeffrey Walton's sha256-x86.c).
#include "CSHA256.h"

#include <stdatomic.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

// The 64 round constants; aligned so that the vector code can load four at a time.
_Alignas(16) static const uint32_t roundConstants[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t rotateRight(uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }

// Message words are big-endian in the block whatever the CPU's byte order.
static inline uint32_t loadBigEndian(const uint8_t *bytes) {
    return (uint32_t)bytes[0] << 24 | (uint32_t)bytes[1] << 16 | (uint32_t)bytes[2] << 8 | (uint32_t)bytes[3];
}

void csha256_compress_blocks_portable(uint32_t *state, const void *data, size_t blockCount) {
    const uint8_t *block = data;
    for (; blockCount > 0; blockCount--, block += 64) {
        uint32_t w[64];
        for (unsigned t = 0; t < 16; t++) w[t] = loadBigEndian(block + 4 * t);
        for (unsigned t = 16; t < 64; t++) {
            uint32_t s0 = rotateRight(w[t - 15], 7) ^ rotateRight(w[t - 15], 18) ^ (w[t - 15] >> 3);
            uint32_t s1 = rotateRight(w[t - 2], 17) ^ rotateRight(w[t - 2], 19) ^ (w[t - 2] >> 10);
            w[t] = w[t - 16] + s0 + w[t - 7] + s1;
        }
        uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
        uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
        for (unsigned t = 0; t < 64; t++) {
            uint32_t t1 = h + (rotateRight(e, 6) ^ rotateRight(e, 11) ^ rotateRight(e, 25)) + ((e & f) ^ (~e & g))
                + roundConstants[t] + w[t];
            uint32_t t2 = (rotateRight(a, 2) ^ rotateRight(a, 13) ^ rotateRight(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
            h = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        state[0] += a;
        state[1] += b;
        state[2] += c;
        state[3] += d;
        state[4] += e;
        state[5] += f;
        state[6] += g;
        state[7] += h;
    }
}

#if defined(__x86_64__)

// Compiled for the SHA extensions (and SSE4.1, which implies the SSSE3 byte shuffle) whatever the
// build's baseline, and only called after cpuid said the CPU has them.
__attribute__((target("sha,sse4.1"))) static void compressWithShaExtensions(
    uint32_t *state, const void *data, size_t blockCount) {
    // sha256rnds2 wants the state as two vectors, ABEF and CDGH (from the high lane down), rather
    // than A..H in order; rearrange it once here and back at the end.
    __m128i cdab = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&state[0]), 0xB1);
    __m128i efgh = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&state[4]), 0x1B);
    __m128i abef = _mm_alignr_epi8(cdab, efgh, 8);
    __m128i cdgh = _mm_blend_epi16(efgh, cdab, 0xF0);
    // Reverses the bytes of each 32-bit lane: the message words are big-endian.
    const __m128i byteSwap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);

    const uint8_t *block = data;
    for (; blockCount > 0; blockCount--, block += 64) {
        const __m128i abefBefore = abef, cdghBefore = cdgh;
        // The message schedule as a ring of four vectors of four words: w[q % 4] holds words
        // 4q..4q+3 while the rounds 4q..4q+3 run, and is then refilled with words 4q+16..4q+19.
        __m128i w[4];
        // Fully unrolled, the ring indices are constants and the four vectors stay in registers.
#if defined(__clang__)
#pragma clang loop unroll(full)
#endif
        for (int q = 0; q < 16; q++) {
            if (q < 4) w[q] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(block + 16 * q)), byteSwap);
            __m128i wk = _mm_add_epi32(w[q & 3], _mm_load_si128((const __m128i *)&roundConstants[4 * q]));
            // Each sha256rnds2 runs two rounds with the two low words of wk.
            cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
            // Words 4q+4..4q+7 (in the vector after this one): msg1 started them two steps ago;
            // msg2 finishes them from their W[t-7] terms (words 4q-3..4q, which alignr picks out of
            // two vectors) and their W[t-2] terms (this vector and themselves).
            if (q >= 3 && q < 15) {
                __m128i sevenBack = _mm_alignr_epi8(w[q & 3], w[(q - 1) & 3], 4);
                w[(q + 1) & 3] = _mm_sha256msg2_epu32(_mm_add_epi32(w[(q + 1) & 3], sevenBack), w[q & 3]);
            }
            abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0E));
            // Starts words 4q+12..4q+15 (W[t-16] + sigma0(W[t-15]), from words 4q-4..4q) in the
            // vector before this one, which the rounds and msg2 above no longer need.
            if (q >= 1 && q < 13) w[(q - 1) & 3] = _mm_sha256msg1_epu32(w[(q - 1) & 3], w[q & 3]);
        }
        abef = _mm_add_epi32(abef, abefBefore);
        cdgh = _mm_add_epi32(cdgh, cdghBefore);
    }

    __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
    __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
    _mm_storeu_si128((__m128i *)&state[0], _mm_blend_epi16(feba, dchg, 0xF0));
    _mm_storeu_si128((__m128i *)&state[4], _mm_alignr_epi8(dchg, feba, 8));
}

// The SHA extensions are CPUID leaf 7 EBX bit 29; SSSE3 and SSE4.1 are leaf 1 ECX bits 9 and 19.
static bool cpuHasShaExtensions(void) {
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
    bool hasSse = (ecx >> 9 & 1) && (ecx >> 19 & 1);
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
    return hasSse && (ebx >> 29 & 1);
}

#endif

bool csha256_uses_sha_extensions(void) {
    // Asked once: 0 not yet, 1 no, 2 yes. Relaxed atomics suffice, since threads that race here
    // all compute and store the same answer.
    static atomic_int answer;
    int known = atomic_load_explicit(&answer, memory_order_relaxed);
    if (known == 0) {
#if defined(__x86_64__)
        known = cpuHasShaExtensions() ? 2 : 1;
#else
        known = 1;
#endif
        atomic_store_explicit(&answer, known, memory_order_relaxed);
    }
    return known == 2;
}

void csha256_compress_blocks(uint32_t *state, const void *data, size_t blockCount) {
#if defined(__x86_64__)
    if (csha256_uses_sha_extensions()) {
        compressWithShaExtensions(state, data, blockCount);
        return;
    }
#endif
    csha256_compress_blocks_portable(state, data, blockCount);
}
