/* sha256.h: SHA-256 (FIPS 180-4) of a byte buffer, for keying inbox files by their content. */
#ifndef FMTBANK_SHA256_H
#define FMTBANK_SHA256_H
#include <stddef.h>
#include <stdint.h>

#define SHA256_HEX_LEN 64

struct sha256_ctx {
    uint32_t state[8];
    uint64_t bytes;
    unsigned char block[64];
    size_t used;
};

void sha256_init(struct sha256_ctx *c);
void sha256_update(struct sha256_ctx *c, const void *data, size_t n);
void sha256_final(struct sha256_ctx *c, unsigned char out[32]);
/* The lower-case hex digest of data (hex needs SHA256_HEX_LEN + 1 bytes). */
void sha256_hex(const void *data, size_t n, char hex[SHA256_HEX_LEN + 1]);

#endif
