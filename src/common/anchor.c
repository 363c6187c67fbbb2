/* anchor.c: Ed25519 anchors of the audit chain with OpenSSL 3 (EVP_DigestSign/EVP_DigestVerify:
 * Ed25519 signs the message itself, no separate digest), key files in PEM, the anchor line. */
#include "common/anchor.h"
#include "common/util.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct anchor_key {
    EVP_PKEY *pkey;
};

/* OpenSSL's reason for the last failure as the error's detail, and its queue emptied. */
static void
ossl_detail(struct fb_error *err)
{
    unsigned long e = ERR_get_error();
    if (e != 0) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        fb_error_detail(err, "OpenSSL: %s", buf);
    }
    ERR_clear_error();
}

/* Writes a PEM key into a new file (never an existing one) with the given mode. */
static int
write_key_file(const char *path, EVP_PKEY *pkey, bool private_key, mode_t mode,
               struct fb_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) {
        fb_error_set(err, errno == EEXIST ? FB_ERR_REFUSED : FB_ERR_INPUT,
                     "could not create \"%s\": %s", path, strerror(errno));
        if (errno == EEXIST)
            fb_error_hint(err, "A key file is never overwritten; choose another name.");
        return -1;
    }
    FILE *f = fdopen(fd, "w");
    if (!f) {
        fb_error_set(err, FB_ERR_INTERNAL, "could not write \"%s\": %s", path, strerror(errno));
        close(fd);
        unlink(path);
        return -1;
    }
    int ok = fchmod(fd, mode) == 0;
    ok = ok && (private_key ? PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL)
                            : PEM_write_PUBKEY(f, pkey)) == 1;
    ok = ok && fflush(f) == 0 && fsync(fd) == 0;
    int saved = errno;
    if (fclose(f) != 0)
        ok = 0;
    if (!ok) {
        fb_error_set(err, FB_ERR_INTERNAL, "could not write \"%s\": %s", path, strerror(saved));
        ossl_detail(err);
        unlink(path);
        return -1;
    }
    return 0;
}

int
anchor_keygen(const char *private_path, const char *public_path, struct fb_error *err)
{
    struct stat st;
    const char *paths[] = {private_path, public_path};
    for (int i = 0; i < 2; i++) {
        if (lstat(paths[i], &st) == 0) {
            fb_error_set(err, FB_ERR_REFUSED, "\"%s\" already exists", paths[i]);
            fb_error_hint(err, "A key file is never overwritten; choose another name.");
            return -1;
        }
    }
    if (strcmp(private_path, public_path) == 0) {
        fb_error_set(err, FB_ERR_INPUT, "the private and the public key need two files");
        return -1;
    }
    EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (!pkey) {
        fb_error_set(err, FB_ERR_INTERNAL, "could not generate an Ed25519 key");
        ossl_detail(err);
        return -1;
    }
    int rc = write_key_file(private_path, pkey, true, 0600, err);
    if (rc == 0 && (rc = write_key_file(public_path, pkey, false, 0644, err)) != 0)
        unlink(private_path); /* just created by us: no half pair is left behind */
    EVP_PKEY_free(pkey);
    return rc;
}

static struct anchor_key *
load_key(const char *path, bool private_key, struct fb_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fb_error_set(err, errno == ENOENT ? FB_ERR_NOTFOUND : FB_ERR_INPUT,
                     "could not open %s key \"%s\": %s", private_key ? "private" : "public",
                     path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        fb_error_set(err, FB_ERR_INPUT, "\"%s\" is not a regular file", path);
        close(fd);
        return NULL;
    }
    if (private_key && (st.st_mode & 077) != 0) {
        fb_error_set(err, FB_ERR_REFUSED,
                     "private key \"%s\" is readable by others (mode %04o)", path,
                     (unsigned)(st.st_mode & 07777));
        fb_error_hint(err, "Only the signer's OS user may read it: chmod 600 \"%s\".", path);
        close(fd);
        return NULL;
    }
    FILE *f = fdopen(fd, "r");
    if (!f) {
        fb_error_set(err, FB_ERR_INTERNAL, "could not read \"%s\": %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    EVP_PKEY *pkey = private_key ? PEM_read_PrivateKey(f, NULL, NULL, NULL)
                                 : PEM_read_PUBKEY(f, NULL, NULL, NULL);
    fclose(f);
    if (!pkey || EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
        fb_error_set(err, FB_ERR_INPUT, "\"%s\" is not an Ed25519 %s key in PEM", path,
                     private_key ? "private" : "public");
        if (!pkey)
            ossl_detail(err);
        ERR_clear_error();
        EVP_PKEY_free(pkey);
        return NULL;
    }
    struct anchor_key *k = xmalloc(sizeof *k);
    k->pkey = pkey;
    return k;
}

struct anchor_key *
anchor_key_load_private(const char *path, struct fb_error *err)
{
    return load_key(path, true, err);
}

struct anchor_key *
anchor_key_load_public(const char *path, struct fb_error *err)
{
    return load_key(path, false, err);
}

void
anchor_key_free(struct anchor_key *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pkey);
    free(k);
}

char *
anchor_message(long long seq, const char *hash_hex, const char *time)
{
    return xasprintf("fmtbank-anchor v1 %lld %s %s", seq, hash_hex, time);
}

int
anchor_sign(const struct anchor_key *key, const char *msg, size_t len,
            unsigned char sig[ANCHOR_SIG_LEN], struct fb_error *err)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    size_t siglen = ANCHOR_SIG_LEN;
    int ok = md && EVP_DigestSignInit(md, NULL, NULL, NULL, key->pkey) == 1 &&
             EVP_DigestSign(md, sig, &siglen, (const unsigned char *)msg, len) == 1 &&
             siglen == ANCHOR_SIG_LEN;
    EVP_MD_CTX_free(md);
    if (!ok) {
        fb_error_set(err, FB_ERR_INTERNAL, "could not sign the anchor");
        ossl_detail(err);
        fb_error_hint(err, "The signing key must be an Ed25519 private key.");
        return -1;
    }
    return 0;
}

bool
anchor_verify(const struct anchor_key *key, const char *msg, size_t len,
              const unsigned char sig[ANCHOR_SIG_LEN])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    bool ok = md && EVP_DigestVerifyInit(md, NULL, NULL, NULL, key->pkey) == 1 &&
              EVP_DigestVerify(md, sig, ANCHOR_SIG_LEN, (const unsigned char *)msg, len) == 1;
    EVP_MD_CTX_free(md);
    ERR_clear_error();
    return ok;
}

char *
anchor_line_format(const char *msg, const unsigned char sig[ANCHOR_SIG_LEN])
{
    char hex[2 * ANCHOR_SIG_LEN + 1];
    for (int i = 0; i < ANCHOR_SIG_LEN; i++)
        snprintf(hex + 2 * i, 3, "%02x", sig[i]);
    return xasprintf("%s %s", msg, hex);
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static bool
is_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (hexval(s[i]) < 0)
            return false;
    return true;
}

/* YYYY-MM-DDTHH:MM:SSZ, digits where digits belong. */
static bool
is_anchor_time(const char *s, size_t n)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
    if (n != ANCHOR_TIME_LEN)
        return false;
    for (size_t i = 0; i < n; i++)
        if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
            return false;
    return true;
}

int
anchor_line_parse(const char *line, struct anchor_line *a, struct fb_error *err)
{
    static const char prefix[] = "fmtbank-anchor v1 ";
    memset(a, 0, sizeof *a);
    if (strncmp(line, prefix, sizeof prefix - 1) != 0) {
        fb_error_set(err, FB_ERR_INPUT, "not a fmtbank-anchor v1 line");
        return -1;
    }
    const char *p = line + sizeof prefix - 1;
    /* SEQ: a positive decimal without sign or leading zero. */
    const char *q = p;
    long long seq = 0;
    while (isdigit((unsigned char)*q)) {
        if (seq > (LLONG_MAX - 9) / 10) {
            fb_error_set(err, FB_ERR_INPUT, "the row number is too large");
            return -1;
        }
        seq = seq * 10 + (*q - '0');
        q++;
    }
    if (q == p || *p == '0' || *q != ' ') {
        fb_error_set(err, FB_ERR_INPUT, "the row number is not a positive integer");
        return -1;
    }
    p = q + 1;
    q = strchr(p, ' ');
    if (!q || (size_t)(q - p) != ANCHOR_HASH_HEX_LEN || !is_lower_hex(p, ANCHOR_HASH_HEX_LEN)) {
        fb_error_set(err, FB_ERR_INPUT, "the chain hash is not 64 lower-case hex digits");
        return -1;
    }
    memcpy(a->hash, p, ANCHOR_HASH_HEX_LEN);
    p = q + 1;
    q = strchr(p, ' ');
    if (!q || !is_anchor_time(p, (size_t)(q - p))) {
        fb_error_set(err, FB_ERR_INPUT, "the time is not YYYY-MM-DDTHH:MM:SSZ");
        return -1;
    }
    memcpy(a->time, p, ANCHOR_TIME_LEN);
    a->msg_len = (size_t)(q - line);
    p = q + 1;
    if (strlen(p) != 2 * ANCHOR_SIG_LEN || !is_lower_hex(p, 2 * ANCHOR_SIG_LEN)) {
        fb_error_set(err, FB_ERR_INPUT, "the signature is not 128 lower-case hex digits");
        return -1;
    }
    for (int i = 0; i < ANCHOR_SIG_LEN; i++)
        a->sig[i] = (unsigned char)(hexval(p[2 * i]) << 4 | hexval(p[2 * i + 1]));
    a->seq = seq;
    return 0;
}
