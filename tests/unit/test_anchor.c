/* test_anchor.c: Ed25519 anchors: key files, sign/verify, and every tampering refused (message,
 * signature, another key), the line format and its parser. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/anchor.h"
#include "common/util.h"

static const char HASH[] = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

struct keys {
    char dir[64];
    char *priv, *pub, *priv2, *pub2;
};

static int
setup(void **state)
{
    struct keys *k = xcalloc(1, sizeof *k);
    snprintf(k->dir, sizeof k->dir, "/tmp/test_anchor.XXXXXX");
    if (!mkdtemp(k->dir))
        return -1;
    k->priv = xasprintf("%s/a.key", k->dir);
    k->pub = xasprintf("%s/a.pub", k->dir);
    k->priv2 = xasprintf("%s/b.key", k->dir);
    k->pub2 = xasprintf("%s/b.pub", k->dir);
    struct fb_error err = {0};
    if (anchor_keygen(k->priv, k->pub, &err) < 0 || anchor_keygen(k->priv2, k->pub2, &err) < 0)
        return -1;
    *state = k;
    return 0;
}

static int
teardown(void **state)
{
    struct keys *k = *state;
    char *files[] = {k->priv, k->pub, k->priv2, k->pub2};
    for (int i = 0; i < 4; i++) {
        unlink(files[i]);
        free(files[i]);
    }
    rmdir(k->dir);
    free(k);
    return 0;
}

static void
test_key_files(void **state)
{
    struct keys *k = *state;
    struct stat st;
    assert_int_equal(stat(k->priv, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(k->pub, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    /* Never overwritten: the existing private key stays as it was. */
    struct fb_error err = {0};
    char *other = xasprintf("%s/new.pub", k->dir);
    assert_int_equal(anchor_keygen(k->priv, other, &err), -1);
    assert_int_equal(err.kind, FB_ERR_REFUSED);
    assert_non_null(strstr(err.message, "already exists"));
    assert_int_equal(access(other, F_OK), -1);
    fb_error_clear(&err);
    free(other);
    char *same = xasprintf("%s/same.key", k->dir);
    assert_int_equal(anchor_keygen(same, same, &err), -1);
    assert_int_equal(err.kind, FB_ERR_INPUT);
    assert_int_equal(access(same, F_OK), -1);
    fb_error_clear(&err);
    free(same);
    /* A public key is not a private key and the reverse. */
    assert_null(anchor_key_load_private(k->pub, &err));
    assert_int_equal(err.kind, FB_ERR_REFUSED); /* mode 0644: refused before it is read */
    fb_error_clear(&err);
    assert_int_equal(chmod(k->pub, 0600), 0);
    assert_null(anchor_key_load_private(k->pub, &err));
    assert_int_equal(err.kind, FB_ERR_INPUT);
    assert_non_null(strstr(err.message, "not an Ed25519 private key"));
    fb_error_clear(&err);
    assert_int_equal(chmod(k->pub, 0644), 0);
    assert_null(anchor_key_load_public(k->priv, &err));
    assert_int_equal(err.kind, FB_ERR_INPUT);
    fb_error_clear(&err);
    /* A private key others can read is refused. */
    assert_int_equal(chmod(k->priv2, 0640), 0);
    assert_null(anchor_key_load_private(k->priv2, &err));
    assert_int_equal(err.kind, FB_ERR_REFUSED);
    assert_non_null(strstr(err.message, "readable by others"));
    fb_error_clear(&err);
    assert_int_equal(chmod(k->priv2, 0600), 0);
    char *missing = xasprintf("%s/none.key", k->dir);
    assert_null(anchor_key_load_private(missing, &err));
    assert_int_equal(err.kind, FB_ERR_NOTFOUND);
    fb_error_clear(&err);
    free(missing);
}

static void
test_sign_verify_tamper(void **state)
{
    struct keys *k = *state;
    struct fb_error err = {0};
    struct anchor_key *priv = anchor_key_load_private(k->priv, &err);
    struct anchor_key *pub = anchor_key_load_public(k->pub, &err);
    struct anchor_key *pub2 = anchor_key_load_public(k->pub2, &err);
    assert_non_null(priv);
    assert_non_null(pub);
    assert_non_null(pub2);
    char *msg = anchor_message(1234, HASH, "2026-12-04T12:30:00Z");
    assert_string_equal(msg, "fmtbank-anchor v1 1234 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b"
                             "822cd15d6c15b0f00a08 2026-12-04T12:30:00Z");
    unsigned char sig[ANCHOR_SIG_LEN];
    assert_int_equal(anchor_sign(priv, msg, strlen(msg), sig, &err), 0);
    assert_true(anchor_verify(pub, msg, strlen(msg), sig));
    /* Another key pair's public key refuses it. */
    assert_false(anchor_verify(pub2, msg, strlen(msg), sig));
    /* Every byte of the message matters: the row number, one hash digit, the time. */
    char *m2 = anchor_message(1235, HASH, "2026-12-04T12:30:00Z");
    assert_false(anchor_verify(pub, m2, strlen(m2), sig));
    free(m2);
    for (size_t i = 0; i < strlen(msg); i++) {
        msg[i] ^= 1;
        assert_false(anchor_verify(pub, msg, strlen(msg), sig));
        msg[i] ^= 1;
    }
    assert_false(anchor_verify(pub, msg, strlen(msg) - 1, sig));
    /* Every bit of the signature matters. */
    for (int i = 0; i < ANCHOR_SIG_LEN * 8; i++) {
        sig[i / 8] ^= (unsigned char)(1u << (i % 8));
        assert_false(anchor_verify(pub, msg, strlen(msg), sig));
        sig[i / 8] ^= (unsigned char)(1u << (i % 8));
    }
    assert_true(anchor_verify(pub, msg, strlen(msg), sig));
    free(msg);
    anchor_key_free(priv);
    anchor_key_free(pub);
    anchor_key_free(pub2);
}

static void
test_line_round_trip(void **state)
{
    struct keys *k = *state;
    struct fb_error err = {0};
    struct anchor_key *priv = anchor_key_load_private(k->priv, &err);
    struct anchor_key *pub = anchor_key_load_public(k->pub, &err);
    char *msg = anchor_message(42, HASH, "2026-01-31T23:59:59Z");
    unsigned char sig[ANCHOR_SIG_LEN];
    assert_int_equal(anchor_sign(priv, msg, strlen(msg), sig, &err), 0);
    char *line = anchor_line_format(msg, sig);
    assert_int_equal(strlen(line), strlen(msg) + 1 + 2 * ANCHOR_SIG_LEN);
    struct anchor_line a;
    assert_int_equal(anchor_line_parse(line, &a, &err), 0);
    assert_true(a.seq == 42);
    assert_string_equal(a.hash, HASH);
    assert_string_equal(a.time, "2026-01-31T23:59:59Z");
    assert_int_equal(a.msg_len, strlen(msg));
    assert_memory_equal(a.sig, sig, ANCHOR_SIG_LEN);
    assert_true(anchor_verify(pub, line, a.msg_len, a.sig));
    /* A forged row number in an otherwise well-formed line parses, and fails verification. */
    line[strlen("fmtbank-anchor v1 ")] = '5';
    assert_int_equal(anchor_line_parse(line, &a, &err), 0);
    assert_true(a.seq == 52);
    assert_false(anchor_verify(pub, line, a.msg_len, a.sig));
    free(line);
    free(msg);
    anchor_key_free(priv);
    anchor_key_free(pub);
}

static void
test_line_malformed(void **state)
{
    (void)state;
    const char *sig = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
                      "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    struct {
        const char *line, *why;
    } bad[] = {
        {"", "not a fmtbank-anchor v1 line"},
        {"fmtbank-anchor v2 1 %s 2026-12-04T12:30:00Z %s", "not a fmtbank-anchor v1 line"},
        {"fmtbank-anchor v1 0 %s 2026-12-04T12:30:00Z %s", "not a positive integer"},
        {"fmtbank-anchor v1 -1 %s 2026-12-04T12:30:00Z %s", "not a positive integer"},
        {"fmtbank-anchor v1 01 %s 2026-12-04T12:30:00Z %s", "not a positive integer"},
        {"fmtbank-anchor v1 99999999999999999999 %s 2026-12-04T12:30:00Z %s", "too large"},
        {"fmtbank-anchor v1 1 %.63s 2026-12-04T12:30:00Z %s", "64 lower-case hex"},
        {"fmtbank-anchor v1 1 %s 2026-12-04 12:30:00Z %s", "YYYY-MM-DDTHH:MM:SSZ"},
        {"fmtbank-anchor v1 1 %s 2026-12-04T12:30:00Z %.127s", "128 lower-case hex"},
        {"fmtbank-anchor v1 1 %s 2026-12-04T12:30:00Z %s ", "128 lower-case hex"},
        {"fmtbank-anchor v1  1 %s 2026-12-04T12:30:00Z %s", "not a positive integer"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *line = xasprintf(bad[i].line, HASH, sig);
        struct anchor_line a;
        struct fb_error err = {0};
        assert_int_equal(anchor_line_parse(line, &a, &err), -1);
        assert_int_equal(err.kind, FB_ERR_INPUT);
        if (!strstr(err.message, bad[i].why))
            fail_msg("line %zu: \"%s\" does not say \"%s\"", i, err.message, bad[i].why);
        fb_error_clear(&err);
        free(line);
    }
    /* Upper-case hex is not the format either (one spelling per anchor). */
    char *upper = xasprintf("fmtbank-anchor v1 1 %s 2026-12-04T12:30:00Z %s",
                            "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08", sig);
    struct anchor_line a;
    struct fb_error err = {0};
    assert_int_equal(anchor_line_parse(upper, &a, &err), -1);
    fb_error_clear(&err);
    free(upper);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_files),
        cmocka_unit_test(test_sign_verify_tamper),
        cmocka_unit_test(test_line_round_trip),
        cmocka_unit_test(test_line_malformed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
