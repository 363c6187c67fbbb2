/* anchor.h: audit-chain anchors signed with Ed25519 (OpenSSL 3). An anchor is one line
 *   fmtbank-anchor v1 SEQ HASH TIME SIGNATURE
 * where SEQ is the id of the audit row whose chain hash HASH (64 lower-case hex) is anchored,
 * TIME the signing time (UTC, YYYY-MM-DDTHH:MM:SSZ), and SIGNATURE 128 lower-case hex: the
 * Ed25519 signature of the text before it ("fmtbank-anchor v1 SEQ HASH TIME"). No database
 * here: the caller reads the chain head and the recomputed hashes. */
#ifndef FMTBANK_ANCHOR_H
#define FMTBANK_ANCHOR_H
#include "common/error.h"
#include <stdbool.h>
#include <stddef.h>

#define ANCHOR_SIG_LEN 64
#define ANCHOR_HASH_HEX_LEN 64
#define ANCHOR_TIME_LEN 20 /* 2026-12-04T12:30:00Z */

struct anchor_key; /* an Ed25519 private or public key */

/* Creates a new key pair: the private key (PKCS#8 PEM) with mode 0600 and the public key
 * (SubjectPublicKeyInfo PEM) with mode 0644. Refuses (FB_ERR_REFUSED) if either file exists;
 * creates neither then. Returns 0 or -1 with err set. */
int anchor_keygen(const char *private_path, const char *public_path, struct fb_error *err);

/* Loads a private key; refuses one that its group or others can read (FB_ERR_REFUSED). */
struct anchor_key *anchor_key_load_private(const char *path, struct fb_error *err);
/* Loads a public key (a private key file is refused: verification needs only the public). */
struct anchor_key *anchor_key_load_public(const char *path, struct fb_error *err);
void anchor_key_free(struct anchor_key *k);

/* The signed text "fmtbank-anchor v1 SEQ HASH TIME" (malloc'd). */
char *anchor_message(long long seq, const char *hash_hex, const char *time);

/* Signs msg with a private key. Returns 0 or -1 with err set. */
int anchor_sign(const struct anchor_key *key, const char *msg, size_t len,
                unsigned char sig[ANCHOR_SIG_LEN], struct fb_error *err);
/* True when sig is key's signature of msg. */
bool anchor_verify(const struct anchor_key *key, const char *msg, size_t len,
                   const unsigned char sig[ANCHOR_SIG_LEN]);

/* One parsed anchor line. */
struct anchor_line {
    long long seq;
    char hash[ANCHOR_HASH_HEX_LEN + 1];
    char time[ANCHOR_TIME_LEN + 1];
    size_t msg_len; /* the signed text is the line's first msg_len bytes */
    unsigned char sig[ANCHOR_SIG_LEN];
};

/* The full line (message, a space, the signature in hex; no newline), malloc'd. */
char *anchor_line_format(const char *msg, const unsigned char sig[ANCHOR_SIG_LEN]);
/* Parses one line (without its newline). Returns 0, or -1 with a message in err
 * (FB_ERR_INPUT) saying what is wrong with it. */
int anchor_line_parse(const char *line, struct anchor_line *a, struct fb_error *err);

#endif
