/* row_jsonb: to_jsonb of a table row for the audit trail, in the server module (issue 17 item 7:
 * "result import" of 100,000 rows with the audit trail).
 *
 * fmtbank_row_jsonb(record) returns exactly to_jsonb(record): one key per column (dropped ones
 * left out), each value as to_jsonb gives it (PostgreSQL 15, src/backend/utils/adt/jsonb.c,
 * composite_to_jsonb and datum_to_jsonb): NULL as null, boolean as a JSON boolean, the numeric
 * types as a JSON number (a string when the output is NaN or an infinity), date and timestamps
 * as JsonEncodeDateTime writes them (the session's TimeZone for timestamptz: STABLE, as
 * to_jsonb), any other built-in type as the string of its output function. Every other column
 * (arrays, composites, json, jsonb, domains over those, types outside the catalog) is given to
 * to_jsonb itself. The work saved is to_jsonb's: it looks every column's type up in the system
 * caches again for every row (base type, element type, row type, output function); here that
 * is done once per row type and kept in fn_extra, and a row costs its values' conversions.
 * The keys are pushed in jsonb's own key order (shorter first, then byte order), found once per
 * row type: the object's closing sort (uniqueifyJsonbObject's qsort_arg) then only checks that
 * they are sorted instead of sorting them for every row (7% of the CPU of making 96,800 lots
 * ready, whose audit and version rows build three objects per lot).
 * tests/sql/sql/audit_verify.sql compares it with to_jsonb on rows of every fmtbank table and
 * on awkward values. */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "nodes/makefuncs.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

PG_FUNCTION_INFO_V1(fmtbank_row_jsonb);

enum col_kind {
    COL_DROPPED,
    COL_BOOL,
    COL_NUMERIC, /* output, then a JSON number unless it has an N or n (NaN, Infinity) */
    COL_DATETIME,
    COL_STRING,  /* the output function's text */
    COL_GENERIC, /* to_jsonb(value) */
};

struct col {
    enum col_kind kind;
    Oid base;          /* the type looked through domains */
    char *name;
    int name_len;
    FmgrInfo fn;       /* output function, or to_jsonb with the column's type as its argument's */
};

struct row_cache {
    Oid type;
    int32 typmod;
    TupleDesc desc;
    struct col *cols;
    int *order; /* the columns not dropped, in jsonb key order */
    int n_order;
};

/* jsonb's key order (jsonb_util.c, lengthCompareJsonbStringValue): length, then bytes */
static int
col_key_cmp(const void *a, const void *b, void *arg)
{
    const struct col *cols = arg;
    const struct col *x = &cols[*(const int *)a];
    const struct col *y = &cols[*(const int *)b];

    if (x->name_len != y->name_len)
        return x->name_len < y->name_len ? -1 : 1;
    return memcmp(x->name, y->name, (size_t)x->name_len);
}

static struct row_cache *
row_cache_make(MemoryContext cxt, Oid type, int32 typmod)
{
    MemoryContext old = MemoryContextSwitchTo(cxt);
    struct row_cache *rc = palloc0(sizeof(*rc));
    TupleDesc d = lookup_rowtype_tupdesc(type, typmod);

    rc->type = type;
    rc->typmod = typmod;
    rc->desc = CreateTupleDescCopy(d);
    ReleaseTupleDesc(d);
    rc->cols = palloc0(sizeof(struct col) * (size_t)Max(rc->desc->natts, 1));
    for (int i = 0; i < rc->desc->natts; i++) {
        Form_pg_attribute att = TupleDescAttr(rc->desc, i);
        struct col *c = &rc->cols[i];
        Oid out;
        bool varlena;

        if (att->attisdropped) {
            c->kind = COL_DROPPED;
            continue;
        }
        c->name = pstrdup(NameStr(att->attname));
        c->name_len = (int)strlen(c->name);
        c->base = getBaseType(att->atttypid);
        switch (c->base) {
        case BOOLOID:
            c->kind = COL_BOOL;
            break;
        case INT2OID:
        case INT4OID:
        case INT8OID:
        case FLOAT4OID:
        case FLOAT8OID:
        case NUMERICOID:
            c->kind = COL_NUMERIC;
            break;
        case DATEOID:
        case TIMESTAMPOID:
        case TIMESTAMPTZOID:
            c->kind = COL_DATETIME;
            break;
        case JSONOID:
        case JSONBOID:
            c->kind = COL_GENERIC;
            break;
        default:
            c->kind = c->base >= FirstNormalObjectId || OidIsValid(get_element_type(c->base)) ||
                              type_is_rowtype(c->base) || c->base == ANYARRAYOID ||
                              c->base == ANYCOMPATIBLEARRAYOID || c->base == RECORDARRAYOID
                          ? COL_GENERIC
                          : COL_STRING;
            break;
        }
        if (c->kind == COL_NUMERIC || c->kind == COL_STRING) {
            getTypeOutputInfo(c->base, &out, &varlena);
            fmgr_info_cxt(out, &c->fn, cxt);
        } else if (c->kind == COL_GENERIC) {
            /* to_jsonb(anyelement) reads its argument's type from its call expression */
            fmgr_info_cxt(F_TO_JSONB, &c->fn, cxt);
            c->fn.fn_expr = (Node *)makeFuncExpr(
                F_TO_JSONB, JSONBOID,
                list_make1(makeNullConst(att->atttypid, att->atttypmod, att->attcollation)),
                InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
        }
    }
    rc->order = palloc(sizeof(int) * (size_t)Max(rc->desc->natts, 1));
    for (int i = 0; i < rc->desc->natts; i++) {
        if (rc->cols[i].kind != COL_DROPPED)
            rc->order[rc->n_order++] = i;
    }
    qsort_arg(rc->order, (size_t)rc->n_order, sizeof(int), col_key_cmp, rc->cols);
    MemoryContextSwitchTo(old);
    return rc;
}

static void
push_string(JsonbParseState **state, char *s)
{
    JsonbValue v;
    size_t len = strlen(s);

    if (len > JENTRY_OFFLENMASK)
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("string too long to represent as jsonb string"),
                        errdetail("Due to an implementation restriction, jsonb strings cannot "
                                  "exceed %d bytes.", JENTRY_OFFLENMASK)));
    v.type = jbvString;
    v.val.string.len = (int)len;
    v.val.string.val = s;
    (void)pushJsonbValue(state, WJB_VALUE, &v);
}

static void
push_value(JsonbParseState **state, struct col *c, Datum val)
{
    JsonbValue v;
    char *s;

    switch (c->kind) {
    case COL_BOOL:
        v.type = jbvBool;
        v.val.boolean = DatumGetBool(val);
        (void)pushJsonbValue(state, WJB_VALUE, &v);
        break;
    case COL_NUMERIC:
        s = OutputFunctionCall(&c->fn, val);
        if (strchr(s, 'N') != NULL || strchr(s, 'n') != NULL) {
            push_string(state, s);
        } else {
            v.type = jbvNumeric;
            v.val.numeric = DatumGetNumeric(DirectFunctionCall3(
                numeric_in, CStringGetDatum(s), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
            (void)pushJsonbValue(state, WJB_VALUE, &v);
        }
        break;
    case COL_DATETIME:
        push_string(state, JsonEncodeDateTime(NULL, val, c->base, NULL));
        break;
    case COL_STRING:
        push_string(state, OutputFunctionCall(&c->fn, val));
        break;
    case COL_GENERIC: {
        Jsonb *jb = DatumGetJsonbP(FunctionCall1(&c->fn, val));
        /* a container or a scalar: pushJsonbValue unpacks either into the object */
        v.type = jbvBinary;
        v.val.binary.data = &jb->root;
        v.val.binary.len = (int)(VARSIZE(jb) - VARHDRSZ);
        (void)pushJsonbValue(state, WJB_VALUE, &v);
        break;
    }
    case COL_DROPPED:
        break;
    }
}

Datum
fmtbank_row_jsonb(PG_FUNCTION_ARGS)
{
    struct row_cache *rc = (struct row_cache *)fcinfo->flinfo->fn_extra;
    HeapTupleHeader td;
    Oid type;
    int32 typmod;
    HeapTupleData tuple;
    JsonbParseState *state = NULL;
    JsonbValue *res;
    Datum *values;
    bool *nulls;

    if (rc == NULL) {
        Oid arg = get_fn_expr_argtype(fcinfo->flinfo, 0);
        /* declared for anyelement: only a row may be read as one */
        if (!OidIsValid(arg) || !type_is_rowtype(arg))
            ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                            errmsg("fmtbank.row_jsonb_raw needs a row, not %s",
                                   OidIsValid(arg) ? format_type_be(arg) : "an unknown type")));
    }
    td = PG_GETARG_HEAPTUPLEHEADER(0);
    type = HeapTupleHeaderGetTypeId(td);
    typmod = HeapTupleHeaderGetTypMod(td);
    if (rc == NULL || rc->type != type || rc->typmod != typmod) {
        rc = row_cache_make(fcinfo->flinfo->fn_mcxt, type, typmod);
        fcinfo->flinfo->fn_extra = rc;
    }
    tuple.t_len = HeapTupleHeaderGetDatumLength(td);
    ItemPointerSetInvalid(&(tuple.t_self));
    tuple.t_tableOid = InvalidOid;
    tuple.t_data = td;
    values = palloc(sizeof(Datum) * (size_t)Max(rc->desc->natts, 1));
    nulls = palloc(sizeof(bool) * (size_t)Max(rc->desc->natts, 1));
    heap_deform_tuple(&tuple, rc->desc, values, nulls);

    (void)pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
    for (int j = 0; j < rc->n_order; j++) {
        int i = rc->order[j];
        struct col *c = &rc->cols[i];
        JsonbValue k;

        k.type = jbvString;
        k.val.string.len = c->name_len;
        k.val.string.val = c->name;
        (void)pushJsonbValue(&state, WJB_KEY, &k);
        if (nulls[i]) {
            JsonbValue v;
            v.type = jbvNull;
            (void)pushJsonbValue(&state, WJB_VALUE, &v);
        } else {
            push_value(&state, c, values[i]);
        }
    }
    res = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
    PG_RETURN_POINTER(JsonbValueToJsonb(res));
}
