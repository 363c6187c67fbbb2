/* archive.c: "fmtbank archive --until D -o DIR" (product.md §15, 30-year retention): the records
 * created by the end of day D and the audit-chain segment up to then, each dataset as CSV, JSON
 * and a sheet of archive.xlsx, read in one snapshot from the archive_* views
 * (schema/code/250_backup.sql, quality only); donor identity and the content of the audit rows
 * that changed it sealed in a separate file (CMS EnvelopedData, AES-256, for the certificate given
 * with --seal-cert: openssl cms -decrypt opens it); ARCHIVE.txt (what it holds, the audit head),
 * VERIFY.py (recomputes the audit chain from audit.csv with python3's standard library only) and
 * MANIFEST (SHA-256 of every file, "sha256sum -c MANIFEST"). The directory is written under a
 * temporary name and renamed into place complete; an existing non-empty DIR is refused. */
#include "cmd/cmd.h"
#include "db/db.h"
#include "report/xlsx.h"
#include "common/anchor.h"
#include "common/file.h"
#include "common/sha256.h"
#include "common/strbuf.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define XLSX_CELL_MAX 32767

/* The datasets, in the order of the manifest; each is the view fmtbank.archive_NAME. */
static const char *const datasets[] = {
    "donors", "donor_decisions", "donor_consents", "questionnaires", "questionnaire_answers",
    "results", "lots", "aliquots", "custody", "release_signatures", "issues", "cases",
    "case_holds", "case_decisions", "case_notifications", "recipient_events",
    "recipient_event_history", "recipient_scores", "audit",
};
#define NDATASETS (sizeof datasets / sizeof datasets[0])

#define SEALED_FILE "donor-identity.sealed.cms"

/* VERIFY.py: the archive's own checker, needing neither fmtbank nor a database. */
static const char verify_py[] =
    "#!/usr/bin/env python3\n"
    "\"\"\"Verifies the audit-chain segment of an fmtbank archive without fmtbank.\n"
    "\n"
    "Run in the archive directory after `sha256sum -c MANIFEST`. Each row of audit.csv is hashed\n"
    "as the database hashed it: SHA-256 of the previous row's hash (32 bytes; nothing before the\n"
    "first row) followed by the UTF-8 text of the fields id, at_utc, who, tbl, op, key, old_row,\n"
    "new_row and reason joined by the unit separator (0x1F). The recomputed hash must equal the\n"
    "row's hash column, and the last one the audit_last_hash line of ARCHIVE.txt. Sealed rows\n"
    "(sealed = t: donor identity, trial blinding) are recomputed only with --sealed FILE, the decrypted sealed file\n"
    "(openssl cms -decrypt); without it their stored hash carries the chain on.\n"
    "Exit 0: intact; 1: a row does not match (named); 2: usage or missing file.\n"
    "\"\"\"\n"
    "import csv, hashlib, json, sys\n"
    "\n"
    "FIELDS = ('id', 'at_utc', 'who', 'tbl', 'op', 'key', 'old_row', 'new_row', 'reason')\n"
    "\n"
    "def main(argv):\n"
    "    sealed = {}\n"
    "    if len(argv) == 2 and argv[0] == '--sealed':\n"
    "        with open(argv[1], encoding='utf-8') as f:\n"
    "            for r in json.load(f)['audit_rows']:\n"
    "                sealed[str(r['id'])] = r\n"
    "    elif argv:\n"
    "        print('usage: VERIFY.py [--sealed DECRYPTED-SEALED-FILE]', file=sys.stderr)\n"
    "        return 2\n"
    "    info = {}\n"
    "    with open('ARCHIVE.txt', encoding='utf-8') as f:\n"
    "        for line in f:\n"
    "            k, sep, v = line.rstrip('\\n').partition(': ')\n"
    "            if sep:\n"
    "                info[k] = v\n"
    "    csv.field_size_limit(1 << 30)\n"
    "    prev, rows, unopened = b'', 0, 0\n"
    "    with open('audit.csv', newline='', encoding='utf-8') as f:\n"
    "        for r in csv.DictReader(f):\n"
    "            rows += 1\n"
    "            if r['sealed'] == 't':\n"
    "                s = sealed.get(r['id'])\n"
    "                if s is None:\n"
    "                    unopened += 1\n"
    "                    prev = bytes.fromhex(r['hash'])\n"
    "                    continue\n"
    "                r = dict(r, old_row=s['old_row'] or '', new_row=s['new_row'] or '',\n"
    "                         reason=s['reason'] or '')\n"
    "            text = '\\x1f'.join(r[k] for k in FIELDS)\n"
    "            h = hashlib.sha256(prev + text.encode('utf-8')).digest()\n"
    "            if h.hex() != r['hash']:\n"
    "                print('audit chain broken at row %s: its content does not hash to its stored '\n"
    "                      'hash' % r['id'])\n"
    "                return 1\n"
    "            prev = h\n"
    "    if rows != int(info.get('audit_rows', '-1')) or prev.hex() != info.get('audit_last_hash', ''):\n"
    "        print('audit segment does not end as ARCHIVE.txt says (%d rows, last hash %s)'\n"
    "              % (rows, prev.hex()))\n"
    "        return 1\n"
    "    print('audit segment intact: %d rows, last hash %s%s' % (rows, prev.hex(),\n"
    "          ' (%d sealed rows not opened)' % unopened if unopened else ''))\n"
    "    return 0\n"
    "\n"
    "if __name__ == '__main__':\n"
    "    sys.exit(main(sys.argv[1:]))\n";

struct archive {
    struct cmd_ctx *ctx;
    char *dir; /* the temporary directory being written */
    struct strbuf manifest;
    struct xlsx_book *book;
};

/* One file of the archive being written (mode 0444), hashed as it goes into the manifest. */
struct outf {
    int fd;
    char *name;
    struct sha256_ctx sha;
    struct strbuf buf; /* written out every 1 MiB */
};

static int
out_open(struct archive *a, struct outf *o, const char *name)
{
    char *path = xasprintf("%s/%s", a->dir, name);
    o->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
    o->name = xstrdup(name);
    sha256_init(&o->sha);
    o->buf = (struct strbuf)STRBUF_INIT;
    if (o->fd < 0)
        fb_error_set(&a->ctx->err, FB_ERR_INTERNAL, "could not create \"%s\": %s", path,
                     strerror(errno));
    free(path);
    return o->fd < 0 ? -1 : 0;
}

static int
out_flush(struct outf *o)
{
    bool ok = o->fd >= 0;
    for (size_t off = 0; ok && off < o->buf.len;) {
        ssize_t w = write(o->fd, o->buf.buf + off, o->buf.len - off);
        ok = w > 0;
        off += ok ? (size_t)w : 0;
    }
    if (o->buf.len)
        sha256_update(&o->sha, o->buf.buf, o->buf.len);
    strbuf_reset(&o->buf);
    return ok ? 0 : -1;
}

static int
out_maybe_flush(struct outf *o)
{
    return o->buf.len >= (1u << 20) ? out_flush(o) : 0;
}

/* Finishes the file (synced) and adds it to the manifest; frees o either way. */
static int
out_close(struct archive *a, struct outf *o, int rc)
{
    if (rc == 0 && (out_flush(o) < 0 || fsync(o->fd) != 0))
        rc = -1;
    if (o->fd >= 0 && close(o->fd) != 0)
        rc = -1;
    if (rc < 0 && !a->ctx->err.message)
        fb_error_set(&a->ctx->err, FB_ERR_INTERNAL, "could not write \"%s/%s\": %s", a->dir,
                     o->name, strerror(errno));
    if (rc == 0) {
        unsigned char d[32];
        sha256_final(&o->sha, d);
        for (int i = 0; i < 32; i++)
            strbuf_addf(&a->manifest, "%02x", d[i]);
        strbuf_addf(&a->manifest, "  %s\n", o->name);
    }
    strbuf_release(&o->buf);
    free(o->name);
    return rc;
}

static int
put_file(struct archive *a, const char *name, const char *data, size_t len)
{
    struct outf o;
    if (out_open(a, &o, name) < 0)
        return out_close(a, &o, -1);
    strbuf_add(&o.buf, data, len);
    return out_close(a, &o, 0);
}

static void
csv_field(struct strbuf *sb, const char *v)
{
    if (!strpbrk(v, ",\"\r\n")) {
        strbuf_adds(sb, v);
        return;
    }
    strbuf_addch(sb, '"');
    for (; *v; v++) {
        if (*v == '"')
            strbuf_addch(sb, '"');
        strbuf_addch(sb, *v);
    }
    strbuf_addch(sb, '"');
}

static enum cell_type
cell_type_of(Oid t)
{
    switch (t) {
    case 20: case 21: case 23: return CELL_INTEGER; /* int8, int2, int4 */
    case 700: case 701: case 1700: return CELL_NUMBER; /* float4, float8, numeric */
    case 16: return CELL_BOOLEAN;
    case 1082: return CELL_DATE;
    default: return CELL_TEXT; /* timestamps too: kept exactly as in the CSV, with their offset */
    }
}

/* A text too long for one Excel cell, cut at a character boundary with a note (the CSV and the
 * JSON hold the full value). Returns v itself when it fits, else a malloc'd copy in *cut. */
static const char *
xlsx_fit(const char *v, char **cut)
{
    size_t len = strlen(v);
    if (len <= XLSX_CELL_MAX)
        return v;
    static const char note[] = " … (cut: the CSV holds the whole value)";
    size_t keep = XLSX_CELL_MAX / 2; /* Excel counts UTF-16 units: stay well below */
    while (keep > 0 && ((unsigned char)v[keep] & 0xC0) == 0x80)
        keep--;
    *cut = xasprintf("%.*s%s", (int)keep, v, note);
    return *cut;
}

/* One dataset, streamed through a cursor (a segment of millions of audit rows never sits in
 * memory): NAME.csv, NAME.json (one object per row, row_to_json) and a sheet of archive.xlsx. */
static int
put_dataset(struct archive *a, const char *name, const char *until, long *nrows)
{
    struct cmd_ctx *ctx = a->ctx;
    char *sql = xasprintf("DECLARE archive_rows NO SCROLL CURSOR FOR SELECT row_to_json(v)::text,"
                          " v.* FROM (SELECT * FROM fmtbank.archive_%s ORDER BY 1) v",
                          name);
    int rc = db_run(ctx->conn, sql, 0, NULL, &ctx->err);
    free(sql);
    if (rc < 0)
        return -1;
    struct outf csv, json;
    char *csv_name = xasprintf("%s.csv", name), *json_name = xasprintf("%s.json", name);
    rc = out_open(a, &csv, csv_name);
    if (out_open(a, &json, json_name) < 0)
        rc = -1;
    free(csv_name);
    free(json_name);
    char *subtitle = xasprintf("records created before %s", until);
    struct xlsx_table *t = NULL;
    struct xlsx_col *cols = NULL;
    const char **vals = NULL;
    char **cuts = NULL;
    int nf = 0;
    *nrows = 0;
    if (rc == 0)
        strbuf_adds(&json.buf, "[");
    for (bool more = rc == 0; more;) {
        PGresult *r = db_exec(ctx->conn, "FETCH 2000 FROM archive_rows", 0, NULL, &ctx->err);
        if (!r) {
            rc = -1;
            break;
        }
        if (!t) { /* the header, from the first fetch (which has the columns even when empty) */
            nf = PQnfields(r) - 1;
            cols = xcalloc((size_t)nf + 1, sizeof *cols);
            vals = xcalloc((size_t)nf + 1, sizeof *vals);
            cuts = xcalloc((size_t)nf + 1, sizeof *cuts);
            for (int f = 0; f < nf; f++) {
                if (f)
                    strbuf_addch(&csv.buf, ',');
                csv_field(&csv.buf, PQfname(r, f + 1));
                cols[f].header = xstrdup(PQfname(r, f + 1)); /* kept: r goes, the sheet stays */
                cols[f].type = cell_type_of(PQftype(r, f + 1));
            }
            strbuf_adds(&csv.buf, "\r\n");
            struct xlsx_heading h = {name, subtitle, NULL};
            t = xlsx_table_begin(a->book, name, &h, cols, (size_t)nf, &ctx->err);
            if (!t)
                rc = -1;
        }
        int nt = PQntuples(r);
        for (int i = 0; rc == 0 && i < nt; i++) {
            strbuf_adds(&json.buf, *nrows ? ",\n" : "\n");
            strbuf_adds(&json.buf, PQgetvalue(r, i, 0));
            for (int f = 0; f < nf; f++) {
                if (f)
                    strbuf_addch(&csv.buf, ',');
                bool null = PQgetisnull(r, i, f + 1);
                if (!null)
                    csv_field(&csv.buf, PQgetvalue(r, i, f + 1));
                vals[f] = null ? NULL : xlsx_fit(PQgetvalue(r, i, f + 1), &cuts[f]);
            }
            strbuf_adds(&csv.buf, "\r\n");
            rc = xlsx_table_row(t, vals, &ctx->err);
            for (int f = 0; f < nf; f++) {
                free(cuts[f]);
                cuts[f] = NULL;
            }
            (*nrows)++;
            if (rc == 0 && (out_maybe_flush(&csv) < 0 || out_maybe_flush(&json) < 0))
                rc = -1;
        }
        more = rc == 0 && nt > 0;
        PQclear(r);
    }
    if (rc == 0) {
        strbuf_adds(&json.buf, *nrows ? "\n]\n" : "]\n");
        rc = xlsx_table_end(t, "(none)", &ctx->err);
    }
    rc = out_close(a, &csv, rc);
    rc = out_close(a, &json, rc);
    if (rc == 0 && db_run(ctx->conn, "CLOSE archive_rows", 0, NULL, &ctx->err) < 0)
        rc = -1;
    for (int f = 0; cols && f < nf; f++)
        free((char *)cols[f].header);
    free(cuts);
    free(vals);
    free(cols);
    free(subtitle);
    return rc;
}

/* Seals plain for the certificate's holder: CMS EnvelopedData (DER), AES-256-CBC. */
static int
seal(struct archive *a, X509 *cert, const char *plain, size_t len, char **subject)
{
    STACK_OF(X509) *certs = sk_X509_new_null();
    BIO *in = BIO_new_mem_buf(plain, (int)len), *out = BIO_new(BIO_s_mem());
    CMS_ContentInfo *cms = NULL;
    int rc = -1;
    if (certs && in && out && sk_X509_push(certs, cert) > 0 &&
        (cms = CMS_encrypt(certs, in, EVP_aes_256_cbc(), CMS_BINARY)) != NULL &&
        i2d_CMS_bio(out, cms) == 1) {
        char *der = NULL;
        long n = BIO_get_mem_data(out, &der);
        rc = put_file(a, SEALED_FILE, der, (size_t)n);
    } else {
        char buf[256];
        ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
        fb_error_set(&a->ctx->err, FB_ERR_INPUT, "could not seal the donor identity: %s", buf);
    }
    char *s = X509_NAME_oneline(X509_get_subject_name(cert), NULL, 0);
    *subject = xstrdup(s ? s : "?");
    OPENSSL_free(s);
    CMS_ContentInfo_free(cms);
    BIO_free(in);
    BIO_free(out);
    sk_X509_free(certs);
    return rc;
}

/* MANIFEST.sig: the Ed25519 signature (64 raw bytes) of MANIFEST with the anchor signer's key;
 * openssl pkeyutl -verify -pubin -inkey PUB -rawin -in MANIFEST -sigfile MANIFEST.sig checks it. */
static int
sign_manifest(struct archive *a, struct anchor_key *key)
{
    unsigned char sig[ANCHOR_SIG_LEN];
    if (anchor_sign(key, a->manifest.buf, a->manifest.len, sig, &a->ctx->err) < 0)
        return -1;
    char *path = xasprintf("%s/MANIFEST.sig", a->dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
    bool ok = fd >= 0 && write(fd, sig, sizeof sig) == (ssize_t)sizeof sig;
    if (fd >= 0)
        ok = close(fd) == 0 && ok;
    if (!ok)
        fb_error_set(&a->ctx->err, FB_ERR_INTERNAL, "could not write \"%s\": %s", path,
                     strerror(errno));
    free(path);
    return ok ? 0 : -1;
}

static X509 *
load_cert(struct cmd_ctx *ctx, const char *path)
{
    FILE *f = fopen(path, "r");
    X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    if (!x) {
        fb_error_set(&ctx->err, f ? FB_ERR_INPUT : FB_ERR_NOTFOUND,
                     f ? "\"%s\" is not a PEM X.509 certificate" : "cannot read \"%s\"", path);
        fb_error_hint(&ctx->err, "--seal-cert names the certificate of whoever may open the donor "
                      "identity (openssl req -x509 ... makes one).");
    }
    return x;
}

/* An output directory that exists must be empty (then it is replaced by the finished one). */
static int
check_output(struct cmd_ctx *ctx, const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0)
        return 0;
    if (!S_ISDIR(st.st_mode) || rmdir(dir) != 0) {
        fb_error_set(&ctx->err, FB_ERR_REFUSED, "\"%s\" exists and is not an empty directory", dir);
        fb_error_hint(&ctx->err, "An archive is never written over another: name a new directory.");
        return -1;
    }
    return 0;
}

static int
cmd_archive(struct cmd_ctx *ctx)
{
    const char *until = cmd_opt(ctx, "until"), *out = cmd_opt(ctx, "output");
    X509 *cert = load_cert(ctx, cmd_opt(ctx, "seal-cert"));
    if (!cert)
        return cmd_fail(ctx);
    struct anchor_key *key = NULL;
    if (cmd_opt(ctx, "key") && !(key = anchor_key_load_private(cmd_opt(ctx, "key"), &ctx->err))) {
        X509_free(cert);
        return cmd_fail(ctx);
    }
    struct archive a = {ctx, NULL, STRBUF_INIT, NULL};
    char *bound = NULL, *sealed = NULL, *subject = NULL, *xlsx_path = NULL;
    struct strbuf info = STRBUF_INIT, counts = STRBUF_INIT;
    int rc = -1;
    const char *p[] = {until};
    if (db_run(ctx->conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL,
               &ctx->err) < 0)
        goto done;
    PGresult *r = db_exec(ctx->conn,
                          "SELECT until_bound, audit_rows, audit_last, audit_hash, session_user,"
                          " to_char(clock_timestamp(), 'YYYY-MM-DD HH24:MI:SS TZH:TZM')"
                          " FROM fmtbank.archive_begin($1)",
                          1, p, &ctx->err);
    if (!r)
        goto done;
    bound = xstrdup(PQgetvalue(r, 0, 0));
    strbuf_addf(&info,
                "fmtbank archive (product.md §15): records created before the bound, the audit "
                "segment up to it\n"
                "until: %s\nbound: %s\nwritten_at: %s\nwritten_by: %s\nfmtbank_version: %s\n"
                "audit_rows: %s\naudit_last_id: %s\naudit_last_hash: %s\n",
                until, bound, PQgetvalue(r, 0, 5), PQgetvalue(r, 0, 4), FMTBANK_VERSION,
                PQgetvalue(r, 0, 1), PQgetisnull(r, 0, 2) ? "" : PQgetvalue(r, 0, 2),
                PQgetvalue(r, 0, 3));
    PQclear(r);
    if (check_output(ctx, out) < 0)
        goto done;
    a.dir = xasprintf("%s.partial-%ld", out, (long)getpid());
    if (mkdir(a.dir, 0755) != 0) {
        fb_error_set(&ctx->err, FB_ERR_INPUT, "could not create \"%s\": %s", a.dir,
                     strerror(errno));
        free(a.dir);
        a.dir = NULL;
        goto done;
    }
    xlsx_path = xasprintf("%s/archive.xlsx", a.dir);
    struct xlsx_props props = {.title = "fmtbank archive", .subject = bound,
                               .comments = "See ARCHIVE.txt and MANIFEST"};
    if (!(a.book = xlsx_open(xlsx_path, &props, &ctx->err)))
        goto done;
    for (size_t i = 0; i < NDATASETS; i++) {
        long n = 0;
        if (put_dataset(&a, datasets[i], bound, &n) < 0)
            goto done;
        strbuf_addf(&counts, "dataset_%s: %ld rows (%s.csv, %s.json, sheet %s)\n", datasets[i],
                    n, datasets[i], datasets[i], datasets[i]);
    }
    sealed = db_scalar(ctx->conn,
                       "SELECT json_build_object("
                       "'donor_identity', (SELECT coalesce(json_agg(v), '[]'::json) FROM"
                       " (SELECT * FROM fmtbank.archive_donor_identity ORDER BY 1) v),"
                       "'audit_rows', (SELECT coalesce(json_agg(v), '[]'::json) FROM"
                       " (SELECT * FROM fmtbank.archive_audit_sealed ORDER BY 1) v))",
                       0, NULL, &ctx->err);
    if (!sealed || db_run(ctx->conn, "COMMIT", 0, NULL, &ctx->err) < 0 ||
        seal(&a, cert, sealed, strlen(sealed), &subject) < 0)
        goto done;
    rc = xlsx_close(a.book, &ctx->err);
    a.book = NULL;
    if (rc < 0)
        goto done;
    rc = -1;
    /* archive.xlsx is complete only now: hash it from the file. */
    char *xb = NULL, hex[SHA256_HEX_LEN + 1];
    size_t xlen = 0;
    if (file_read_all(xlsx_path, (size_t)8 << 30, 0, &xb, &xlen, &ctx->err) < 0)
        goto done;
    sha256_hex(xb, xlen, hex);
    free(xb);
    strbuf_addf(&a.manifest, "%s  archive.xlsx\n", hex);
    if (key)
        strbuf_adds(&info, "manifest_signature: MANIFEST.sig (Ed25519 with the audit anchors' key; "
                           "openssl pkeyutl -verify -pubin -inkey PUB.pem -rawin -in MANIFEST "
                           "-sigfile MANIFEST.sig)\n");
    strbuf_addf(&info,
                "sealed: " SEALED_FILE " (CMS EnvelopedData, DER, AES-256-CBC) for %s: donor "
                "identity and the content of the audit rows marked sealed (identity, trial "
                "blinding); open it with\n"
                "  openssl cms -decrypt -inform DER -in " SEALED_FILE
                " -inkey KEY.pem -recip CERT.pem -out sealed.json\n"
                "%s"
                "verify: sha256sum -c MANIFEST && python3 VERIFY.py [--sealed sealed.json]\n",
                subject, strbuf_str(&counts));
    if (put_file(&a, "ARCHIVE.txt", strbuf_str(&info), info.len) < 0 ||
        put_file(&a, "VERIFY.py", verify_py, strlen(verify_py)) < 0)
        goto done;
    char *mpath = xasprintf("%s/MANIFEST", a.dir);
    FILE *mf = fopen(mpath, "w");
    bool ok = mf && fwrite(a.manifest.buf, 1, a.manifest.len, mf) == a.manifest.len;
    ok = mf && fclose(mf) == 0 && ok;
    ok = ok && chmod(mpath, 0444) == 0;
    free(mpath);
    sha256_hex(a.manifest.buf, a.manifest.len, hex);
    if (ok && key && sign_manifest(&a, key) < 0)
        goto done;
    if (!ok || rename(a.dir, out) != 0) {
        fb_error_set(&ctx->err, FB_ERR_INTERNAL, "could not finish the archive in \"%s\": %s", out,
                     strerror(errno));
        goto done;
    }
    printf("%s\n", out);
    fprintf(stderr, "archive written: %s (MANIFEST SHA-256 %s: keep it off this machine)\n", out,
            hex);
    rc = 0;
done:
    if (a.book)
        xlsx_discard(a.book);
    if (rc != 0 && a.dir)
        fprintf(stderr, "fmtbank: the incomplete archive is left in %s\n", a.dir);
    X509_free(cert);
    anchor_key_free(key);
    free(a.dir);
    strbuf_release(&a.manifest);
    strbuf_release(&info);
    strbuf_release(&counts);
    free(bound);
    free(sealed);
    free(subject);
    free(xlsx_path);
    return rc == 0 ? 0 : cmd_fail(ctx);
}

const struct cmd_def cmd_defs_archive[] = {
    {"archive", cmd_archive, CMD_DB, {0},
     (const struct opt_spec[]){
         {"until", 0, OPT_STRING, "DATE", .help = "archive what was recorded by the end of this day",
          .flags = OPT_REQUIRED},
         {"output", 'o', OPT_STRING, "DIR", .help = "the archive directory to create (new or empty)",
          .flags = OPT_REQUIRED},
         {"seal-cert", 0, OPT_STRING, "CERT.pem",
          .help = "the X.509 certificate the donor identity is sealed for", .flags = OPT_REQUIRED},
         {"key", 0, OPT_STRING, "FILE",
          .help = "the anchor signer's private key: signs MANIFEST (MANIFEST.sig)"},
         {0}},
     "write the 30-year archive up to a date, verifiable without fmtbank (quality)",
     "DIR gets, for each dataset (donors, decisions, consents, questionnaires and answers,\n"
     "results, lots and aliquots (processing), custody, signed releases, issues, cases with\n"
     "their holds, decisions and notifications, recipient events and scores, and the audit-chain\n"
     "segment), NAME.csv, NAME.json and a sheet of archive.xlsx; donor identity and the content of\n"
     "the audit rows that changed it only in donor-identity.sealed.cms (CMS, for --seal-cert's\n"
     "holder); ARCHIVE.txt, VERIFY.py and MANIFEST. Verify without fmtbank, in DIR:\n"
     "  sha256sum -c MANIFEST && python3 VERIFY.py\n"
     "Records are those created by the end of DATE, as they stand now; their history to then is\n"
     "in the audit segment. Keep the printed MANIFEST SHA-256 elsewhere; with --key, MANIFEST.sig\n"
     "is its Ed25519 signature (the audit anchors' key):\n"
     "  openssl pkeyutl -verify -pubin -inkey PUB -rawin -in MANIFEST -sigfile MANIFEST.sig\n"},
    {0},
};
