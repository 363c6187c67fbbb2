/* audit_chain: the fast path of "audit verify" (product.md §16), in the server module.
 *
 * fmtbank_audit_chain(after bigint, upto bigint) checks every link of the audit hash chain for
 * the rows with after < id <= upto, in id order: row i is intact when its stored hash is
 * SHA-256(stored hash of the row before it || content of row i), where the row before the first
 * one is the last row with id <= after (none: the empty string) and the content is exactly
 * fmtbank.audit_content() converted to UTF-8:
 *   concat_ws(E'\x1f', id::text, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'),
 *             who, tbl, op, coalesce(key, ''), coalesce(old_row::text, ''),
 *             coalesce(new_row::text, ''), coalesce(reason, ''))
 * It returns the same record as fmtbank.audit_verify_sql (the plain SQL definition, which stays
 * the reference: tests/sql/sql/audit_verify.sql compares both on tampered chains): ok,
 * rows_checked, first_broken, last_id. Every row's content is rebuilt from its stored columns and
 * hashed; only the per-row work moves from the executor's expression evaluation to one C loop
 * fed by the executor directly (a DestReceiver: no tuple copies).
 *
 * fmtbank_hash_chain_step(state bytea, seed bytea, content text) is the transition function of
 * the aggregate fmtbank.hash_chain (audit anchors, 080), in C: exactly
 * sha256(coalesce(state, seed) || convert_to(content, 'UTF8')) (NULL when that is), the plain
 * PL/pgSQL fmtbank.hash_chain_step without a PL/pgSQL call per row. fmtbank_audit_chain_step is
 * the same step with the content text built here from the row's columns (340): the aggregate
 * fmtbank.audit_chain that the audit trigger (audit_stmt) chains new rows with. */
#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include <openssl/evp.h>

PG_FUNCTION_INFO_V1(fmtbank_audit_chain);
PG_FUNCTION_INFO_V1(fmtbank_hash_chain_step);
PG_FUNCTION_INFO_V1(fmtbank_audit_chain_step);

#define SHA256_LEN 32

struct chain_state {
    DestReceiver pub;
    EVP_MD *md;           /* fetched once: no algorithm lookup per row */
    EVP_MD_CTX *sha;
    StringInfoData content;
    uint8 prev[SHA256_LEN];
    int prev_len;         /* 0: the empty string (no row before) */
    bool prev_bad;        /* the row before had a stored hash that is not 32 bytes */
    bytea *prev_odd;      /* ... then its bytes, as stored */
    int64 rows;
    bool broken;
    int64 first_broken;   /* the first row whose link fails, when broken */
    int64 last_id;
    MemoryContext row_cxt;
};

static void
add_sep(StringInfo s, bool *first)
{
    if (!*first)
        appendStringInfoChar(s, '\x1f');
    *first = false;
}

static void
add_text(StringInfo s, Datum d)
{
    text *t = pg_detoast_datum_packed((struct varlena *)DatumGetPointer(d));
    appendBinaryStringInfo(s, VARDATA_ANY(t), (int)VARSIZE_ANY_EXHDR(t));
}

/* to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'); false when that is NULL. */
static bool
add_time(StringInfo s, TimestampTz ts)
{
    struct pg_tm tm;
    fsec_t fsec;

    if (TIMESTAMP_NOT_FINITE(ts))
        return false;       /* to_char gives NULL, which concat_ws skips */
    if (timestamp2tm((Timestamp)ts, NULL, &tm, &fsec, NULL, NULL) == 0 && tm.tm_year >= 1 &&
        tm.tm_year <= 9999) {
        appendStringInfo(s, "%04d-%02d-%02dT%02d:%02d:%02d.%06d", tm.tm_year, tm.tm_mon,
                         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)fsec);
    } else {
        /* Outside years 1-9999 (BC, five digits): the SQL function itself. */
        Datum r = DirectFunctionCall2(timestamp_to_char, TimestampGetDatum((Timestamp)ts),
                                      CStringGetTextDatum("YYYY-MM-DD\"T\"HH24:MI:SS.US"));
        add_text(s, r);
    }
    return true;
}

static void
sha_update(struct chain_state *st, const uint8 *data, size_t len)
{
    if (!EVP_DigestUpdate(st->sha, data, len))
        elog(ERROR, "could not compute SHA-256");
}

/* Appends the content text of one audit row to s: fmtbank.audit_content(v[0] .. v[8]) (id, at,
 * who, tbl, op, key, old_row, new_row, reason), with concat_ws's treatment of NULL: a NULL id, at
 * (or an infinite at, which to_char gives as NULL), who, tbl or op is left out with its
 * separator; key, old_row, new_row and reason are coalesced to the empty string. */
static void
build_content(StringInfo s, const Datum *v, const bool *isnull)
{
    bool first = true;

    if (!isnull[0]) {
        add_sep(s, &first);
        appendStringInfo(s, INT64_FORMAT, DatumGetInt64(v[0]));
    }
    if (!isnull[1]) {
        int mark = s->len;
        bool was_first = first;
        add_sep(s, &first);
        if (!add_time(s, DatumGetTimestampTz(v[1]))) {
            s->len = mark, s->data[mark] = '\0';
            first = was_first;
        }
    }
    for (int c = 2; c <= 4; c++)
        if (!isnull[c]) {
            add_sep(s, &first);
            add_text(s, v[c]);
        }
    for (int c = 5; c <= 8; c++) {
        add_sep(s, &first);
        if (isnull[c])
            continue;
        if (c == 6 || c == 7) {
            Jsonb *jb = DatumGetJsonbP(v[c]);
            (void)JsonbToCString(s, &jb->root, VARSIZE(jb));
        } else {
            add_text(s, v[c]);
        }
    }
}

static bool
chain_receive(TupleTableSlot *slot, DestReceiver *self)
{
    struct chain_state *st = (struct chain_state *)self;
    StringInfo s = &st->content;
    MemoryContext old = MemoryContextSwitchTo(st->row_cxt);
    uint8 digest[SHA256_LEN];
    int64 id;
    bytea *h;

    slot_getallattrs(slot);
    resetStringInfo(s);
    /* columns: id, at, who, tbl, op, key, old_row, new_row, reason, hash */
    if (slot->tts_isnull[0])
        elog(ERROR, "audit_log row without id");
    id = DatumGetInt64(slot->tts_values[0]);
    build_content(s, slot->tts_values, slot->tts_isnull);
    if (!EVP_DigestInit_ex2(st->sha, st->md, NULL))
        elog(ERROR, "could not initialize SHA-256");
    if (st->prev_bad)
        sha_update(st, (uint8 *)VARDATA_ANY(st->prev_odd), VARSIZE_ANY_EXHDR(st->prev_odd));
    else if (st->prev_len > 0)
        sha_update(st, st->prev, (size_t)st->prev_len);
    if (GetDatabaseEncoding() == PG_UTF8) {
        sha_update(st, (uint8 *)s->data, (size_t)s->len);
    } else {
        char *u = pg_server_to_any(s->data, s->len, PG_UTF8);
        sha_update(st, (uint8 *)u, strlen(u));
    }
    if (!EVP_DigestFinal_ex(st->sha, digest, NULL))
        elog(ERROR, "could not compute SHA-256");

    if (slot->tts_isnull[9]) {
        /* A NULL hash equals nothing (SQL: hash = expect is NULL, which bool_and skips); the
         * next row then chains from the empty string, as coalesce(lag(hash), '') does. */
        st->prev_bad = false;
        st->prev_len = 0;
    } else {
        h = DatumGetByteaPP(slot->tts_values[9]);
        if (VARSIZE_ANY_EXHDR(h) != SHA256_LEN ||
            memcmp(VARDATA_ANY(h), digest, SHA256_LEN) != 0) {
            if (!st->broken)
                st->first_broken = id;
            st->broken = true;
        }
        MemoryContextSwitchTo(old);
        if (st->prev_odd)
            pfree(st->prev_odd);
        st->prev_odd = NULL;
        st->prev_bad = VARSIZE_ANY_EXHDR(h) != SHA256_LEN;
        if (st->prev_bad) {
            st->prev_odd = (bytea *)palloc(VARSIZE_ANY(h));
            memcpy(st->prev_odd, h, VARSIZE_ANY(h));
        } else {
            memcpy(st->prev, VARDATA_ANY(h), SHA256_LEN);
            st->prev_len = SHA256_LEN;
        }
    }
    MemoryContextSwitchTo(old);
    MemoryContextReset(st->row_cxt);
    st->rows++;
    st->last_id = id;
    return true;
}

static void
chain_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
    (void)self;
    (void)operation;
    if (typeinfo->natts != 10)
        elog(ERROR, "audit chain query returned %d columns", typeinfo->natts);
}

static void
chain_shutdown(DestReceiver *self)
{
    (void)self;
}

static void
chain_destroy(DestReceiver *self)
{
    (void)self;
}

/* Reads the range's rows in id order into the receiver, after the stored hash before it. */
static void
chain_run(struct chain_state *st, bool from_start, int64 after, bool to_end, int64 upto)
{
    SPIExecuteOptions opt;
    char sql[512], where[160];
    int rc;

    if ((rc = SPI_connect()) != SPI_OK_CONNECT)
        elog(ERROR, "SPI_connect failed: %s", SPI_result_code_string(rc));
    /* The stored hash of the last row before the range (the first link's left side). */
    if (from_start) {
        where[0] = '\0';
    } else {
        snprintf(sql, sizeof(sql),
                 "SELECT hash FROM fmtbank.audit_log WHERE id OPERATOR(pg_catalog.<=) "
                 INT64_FORMAT "::pg_catalog.int8 ORDER BY id DESC LIMIT 1", after);
        rc = SPI_execute(sql, true, 1);
        if (rc != SPI_OK_SELECT)
            elog(ERROR, "reading the audit chain failed: %s", SPI_result_code_string(rc));
        if (SPI_processed == 1) {
            bool isnull;
            Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
            if (!isnull) {
                bytea *h = DatumGetByteaPP(d);
                if (VARSIZE_ANY_EXHDR(h) == SHA256_LEN) {
                    memcpy(st->prev, VARDATA_ANY(h), SHA256_LEN);
                    st->prev_len = SHA256_LEN;
                } else {
                    st->prev_bad = true;
                    st->prev_odd = (bytea *)palloc(VARSIZE_ANY(h));
                    memcpy(st->prev_odd, h, VARSIZE_ANY(h));
                }
            }
        }
        snprintf(where, sizeof(where), " AND id OPERATOR(pg_catalog.>) " INT64_FORMAT
                 "::pg_catalog.int8", after);
    }
    if (!to_end)
        snprintf(where + strlen(where), sizeof(where) - strlen(where),
                 " AND id OPERATOR(pg_catalog.<=) " INT64_FORMAT "::pg_catalog.int8", upto);
    snprintf(sql, sizeof(sql),
             "SELECT id, at, who, tbl, op, key, old_row, new_row, reason, hash "
             "FROM fmtbank.audit_log WHERE true%s ORDER BY id", where);
    memset(&opt, 0, sizeof(opt));
    opt.read_only = true;
    opt.dest = (DestReceiver *)st;
    rc = SPI_execute_extended(sql, &opt);
    if (rc != SPI_OK_SELECT && rc != SPI_OK_UTILITY) /* UTILITY: a SELECT into a DestNone receiver */
        elog(ERROR, "reading the audit chain failed: %s", SPI_result_code_string(rc));
    SPI_finish();
}

Datum
fmtbank_audit_chain(PG_FUNCTION_ARGS)
{
    bool from_start = PG_ARGISNULL(0);
    int64 after = from_start ? 0 : PG_GETARG_INT64(0);
    bool to_end = PG_ARGISNULL(1);
    int64 upto = to_end ? 0 : PG_GETARG_INT64(1);
    struct chain_state st;
    TupleDesc desc;
    Datum values[4];
    bool nulls[4] = {false, false, false, false};

    if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
        elog(ERROR, "fmtbank_audit_chain must return a record");
    desc = BlessTupleDesc(desc);

    memset(&st, 0, sizeof(st));
    st.pub.receiveSlot = chain_receive;
    st.pub.rStartup = chain_startup;
    st.pub.rShutdown = chain_shutdown;
    st.pub.rDestroy = chain_destroy;
    st.pub.mydest = DestNone;
    st.row_cxt = AllocSetContextCreate(CurrentMemoryContext, "fmtbank audit chain row",
                                       ALLOCSET_DEFAULT_SIZES);
    initStringInfo(&st.content);
    st.md = EVP_MD_fetch(NULL, "SHA256", NULL);
    st.sha = EVP_MD_CTX_new();
    if (st.md == NULL || st.sha == NULL) {
        EVP_MD_CTX_free(st.sha);
        EVP_MD_free(st.md);
        elog(ERROR, "could not initialize SHA-256");
    }
    PG_TRY();
    {
        chain_run(&st, from_start, after, to_end, upto);
    }
    PG_FINALLY();
    {
        EVP_MD_CTX_free(st.sha);
        EVP_MD_free(st.md);
    }
    PG_END_TRY();


    values[0] = BoolGetDatum(!st.broken);
    values[1] = Int64GetDatum(st.rows);
    values[2] = Int64GetDatum(st.first_broken);
    nulls[2] = !st.broken;
    values[3] = Int64GetDatum(st.last_id);
    nulls[3] = st.rows == 0;
    PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/* The backend's SHA-256 of the aggregate steps (fetched once: no algorithm lookup per row). */
static EVP_MD *step_md;
static EVP_MD_CTX *step_ctx;

/* sha256(left || convert_to(content, 'UTF8')) as a new bytea. */
static bytea *
step_digest(bytea *left, const char *data, size_t len)
{
    bytea *out;
    char *conv = NULL;

    if (GetDatabaseEncoding() != PG_UTF8) {
        conv = pg_server_to_any(data, (int)len, PG_UTF8);
        if (conv != data) {
            data = conv;
            len = strlen(conv);
        }
    }
    if (step_md == NULL)
        step_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (step_ctx == NULL)
        step_ctx = EVP_MD_CTX_new();
    if (step_md == NULL || step_ctx == NULL)
        elog(ERROR, "could not initialize SHA-256");
    out = (bytea *)palloc(VARHDRSZ + SHA256_LEN);
    SET_VARSIZE(out, VARHDRSZ + SHA256_LEN);
    if (!EVP_DigestInit_ex2(step_ctx, step_md, NULL) ||
        !EVP_DigestUpdate(step_ctx, VARDATA_ANY(left), VARSIZE_ANY_EXHDR(left)) ||
        !EVP_DigestUpdate(step_ctx, data, len) ||
        !EVP_DigestFinal_ex(step_ctx, (unsigned char *)VARDATA(out), NULL))
        elog(ERROR, "could not compute SHA-256");
    return out;
}

Datum
fmtbank_hash_chain_step(PG_FUNCTION_ARGS)
{
    bytea *left;
    text *content;

    if (PG_ARGISNULL(2) || (PG_ARGISNULL(0) && PG_ARGISNULL(1)))
        PG_RETURN_NULL();
    left = PG_ARGISNULL(0) ? PG_GETARG_BYTEA_PP(1) : PG_GETARG_BYTEA_PP(0);
    content = PG_GETARG_TEXT_PP(2);
    PG_RETURN_BYTEA_P(step_digest(left, VARDATA_ANY(content), VARSIZE_ANY_EXHDR(content)));
}

/* fmtbank_audit_chain_step(state, seed, id, at, who, tbl, op, key, old_row, new_row, reason):
 * the transition function of the aggregate fmtbank.audit_chain that the audit trigger
 * (audit_stmt) chains new rows with, exactly
 *   fmtbank.hash_chain_step(state, seed, fmtbank.audit_content(id, ..., reason))
 * (NULL when state and seed are): the content text built here, as "audit verify"'s C loop builds
 * it from the stored columns, instead of by concat_ws, to_char and jsonb's output function in the
 * executor for every audited row. */
Datum
fmtbank_audit_chain_step(PG_FUNCTION_ARGS)
{
    Datum v[9];
    bool isnull[9];
    StringInfoData s;
    bytea *left, *out;

    if (PG_ARGISNULL(0) && PG_ARGISNULL(1))
        PG_RETURN_NULL();
    left = PG_ARGISNULL(0) ? PG_GETARG_BYTEA_PP(1) : PG_GETARG_BYTEA_PP(0);
    for (int i = 0; i < 9; i++) {
        isnull[i] = PG_ARGISNULL(i + 2);
        v[i] = isnull[i] ? (Datum)0 : PG_GETARG_DATUM(i + 2);
    }
    initStringInfo(&s);
    build_content(&s, v, isnull);
    out = step_digest(left, s.data, (size_t)s.len);
    pfree(s.data);
    PG_RETURN_BYTEA_P(out);
}
