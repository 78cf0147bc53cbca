/*
 * fuzz_workspace: the edge's workspace_id extractors
 * (common/sq_workspace.c): query string, form body, JSON
 * body, Content-Type and the query/body merge.
 *
 * The input is read three ways: whole as a query string, whole as a
 * JSON body, whole as a Content-Type value; then split at its first
 * newline into a query and a body (JSON when the body starts with '{',
 * a form otherwise) that are merged as the module merges them.
 *
 * Properties checked besides memory safety:
 *   - every extractor is deterministic and any id it returns is in
 *     1..SQ_WORKSPACE_ID_MAX;
 *   - parameters are split on '&' alone: appending or prepending
 *     "&workspace_id=5" turns NONE into OK(5) and anything else into
 *     DUPLICATE;
 *   - an id survives a round trip: "workspace_id=<id>" parses back to it,
 *     and a JSON body re-serialised by jansson gives the same answer;
 *   - merge follows its contract (conflict only for two different valid
 *     ids; a refusal on either side wins over a value).
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sq_workspace.h"
#include "fuzz.h"

#define SQ_FUZZ_QUERY_MAX  8192


static int
ws_rc_valid(sq_ws_rc_t rc)
{
    return rc >= SQ_WS_NONE && rc <= SQ_WS_CONFLICT;
}


static sq_ws_rc_t
query_checked(const char *s, size_t len, uint64_t *id)
{
    uint64_t     a, b;
    sq_ws_rc_t   rc, rc2;

    a = b = 0;
    rc = sq_workspace_from_query(s, len, &a);
    rc2 = sq_workspace_from_query(s, len, &b);

    SQ_FUZZ_ASSERT(rc == rc2);
    SQ_FUZZ_ASSERT(rc == SQ_WS_NONE || rc == SQ_WS_OK
                   || rc == SQ_WS_INVALID || rc == SQ_WS_DUPLICATE);

    if (rc == SQ_WS_OK) {
        SQ_FUZZ_ASSERT(a == b && a >= 1 && a <= SQ_WORKSPACE_ID_MAX);
        *id = a;
    }

    return rc;
}


/* buf is a query plus "&workspace_id=5" on one side: 5, or a duplicate */
static void
check_query_added(const char *buf, size_t len, sq_ws_rc_t rc)
{
    uint64_t     id;
    sq_ws_rc_t   rc2;

    id = 0;
    rc2 = sq_workspace_from_query(buf, len, &id);

    if (rc == SQ_WS_NONE) {
        SQ_FUZZ_ASSERT(rc2 == SQ_WS_OK && id == 5);
    } else {
        SQ_FUZZ_ASSERT(rc2 == SQ_WS_DUPLICATE);
    }
}


static void
check_query_framing(const char *s, size_t len, sq_ws_rc_t rc)
{
    char        *buf;
    size_t       n;
    static const char  extra[] = "workspace_id=5";

    n = sizeof(extra) - 1;

    if (len > SQ_FUZZ_QUERY_MAX) {
        return;
    }

    buf = malloc(len + n + 1);
    if (buf == NULL) {
        return;
    }

    /* appended */
    memcpy(buf, s, len);
    buf[len] = '&';
    memcpy(buf + len + 1, extra, n);
    check_query_added(buf, len + n + 1, rc);

    /* prepended */
    memcpy(buf, extra, n);
    buf[n] = '&';
    memcpy(buf + n + 1, s, len);
    check_query_added(buf, len + n + 1, rc);

    free(buf);
}


static void
check_id_round_trip(uint64_t id)
{
    int          n;
    char         buf[64];
    uint64_t     back;
    sq_ws_rc_t   rc;

    n = snprintf(buf, sizeof(buf), "workspace_id=%llu",
                 (unsigned long long) id);
    SQ_FUZZ_ASSERT(n > 0 && (size_t) n < sizeof(buf));

    back = 0;
    rc = sq_workspace_from_query(buf, (size_t) n, &back);
    SQ_FUZZ_ASSERT(rc == SQ_WS_OK && back == id);

    n = snprintf(buf, sizeof(buf), "{\"workspace_id\": %llu}",
                 (unsigned long long) id);
    back = 0;
    rc = sq_workspace_from_json(buf, (size_t) n, &back);
    SQ_FUZZ_ASSERT(rc == SQ_WS_OK && back == id);
}


static sq_ws_rc_t
json_checked(const char *s, size_t len, uint64_t *id)
{
    char        *dump;
    json_t      *root;
    uint64_t     a, b, c;
    sq_ws_rc_t   rc, rc2, rc3;

    a = b = c = 0;
    rc = sq_workspace_from_json(s, len, &a);
    rc2 = sq_workspace_from_json(s, len, &b);

    SQ_FUZZ_ASSERT(rc == rc2);
    SQ_FUZZ_ASSERT(rc == SQ_WS_NONE || rc == SQ_WS_OK
                   || rc == SQ_WS_INVALID || rc == SQ_WS_BAD_JSON
                   || rc == SQ_WS_NOT_OBJECT);

    if (rc == SQ_WS_OK) {
        SQ_FUZZ_ASSERT(a == b && a >= 1 && a <= SQ_WORKSPACE_ID_MAX);
        *id = a;
    }

    if (rc == SQ_WS_BAD_JSON) {
        return rc;
    }

    /* what jansson re-serialises must read the same */
    root = json_loadb(s, len, JSON_REJECT_DUPLICATES, NULL);
    SQ_FUZZ_ASSERT(root != NULL);

    dump = json_dumps(root, JSON_COMPACT);
    json_decref(root);

    if (dump == NULL) {
        return rc;
    }

    rc3 = sq_workspace_from_json(dump, strlen(dump), &c);
    free(dump);

    SQ_FUZZ_ASSERT(rc3 == rc);
    SQ_FUZZ_ASSERT(rc != SQ_WS_OK || c == a);

    return rc;
}


static void
check_merge(sq_ws_rc_t q, uint64_t qid, sq_ws_rc_t b, uint64_t bid)
{
    uint64_t     id, id2;
    sq_ws_rc_t   rc, rc2;

    id = id2 = 0;
    rc = sq_workspace_merge(q, qid, b, bid, &id);
    rc2 = sq_workspace_merge(q, qid, b, bid, &id2);

    SQ_FUZZ_ASSERT(rc == rc2 && ws_rc_valid(rc));

    if (q == SQ_WS_OK && b == SQ_WS_OK) {
        SQ_FUZZ_ASSERT(qid == bid ? (rc == SQ_WS_OK && id == qid)
                                  : rc == SQ_WS_CONFLICT);
        return;
    }

    SQ_FUZZ_ASSERT(rc != SQ_WS_CONFLICT);

    if (q != SQ_WS_NONE && q != SQ_WS_OK) {
        SQ_FUZZ_ASSERT(rc == q);

    } else if (b != SQ_WS_NONE && b != SQ_WS_OK) {
        SQ_FUZZ_ASSERT(rc == b);

    } else if (q == SQ_WS_OK) {
        SQ_FUZZ_ASSERT(rc == SQ_WS_OK && id == qid);

    } else if (b == SQ_WS_OK) {
        SQ_FUZZ_ASSERT(rc == SQ_WS_OK && id == bid);

    } else {
        SQ_FUZZ_ASSERT(rc == SQ_WS_NONE);
    }

    if (rc == SQ_WS_OK) {
        SQ_FUZZ_ASSERT(id == id2);
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char            *copy, *nl;
    size_t           qlen, blen;
    uint64_t         qid, bid;
    sq_ws_rc_t       q, b;
    sq_body_type_t   t, t2;

    copy = malloc(size ? size : 1);
    if (copy == NULL) {
        return 0;
    }
    memcpy(copy, data, size);

    /* whole: a query string */
    qid = 0;
    q = query_checked(copy, size, &qid);
    check_query_framing(copy, size, q);
    if (q == SQ_WS_OK) {
        check_id_round_trip(qid);
    }

    /* whole: a JSON body */
    bid = 0;
    b = json_checked(copy, size, &bid);
    if (b == SQ_WS_OK) {
        check_id_round_trip(bid);
    }

    /* whole: a Content-Type */
    t = sq_body_type(copy, size);
    t2 = sq_body_type(copy, size);
    SQ_FUZZ_ASSERT(t == t2 && t >= SQ_BODY_OTHER && t <= SQ_BODY_FORM);

    check_merge(q, qid, b, bid);

    /* split: query "\n" body */
    nl = memchr(copy, '\n', size);
    if (nl != NULL) {
        qlen = (size_t) (nl - copy);
        blen = size - qlen - 1;

        qid = bid = 0;
        q = query_checked(copy, qlen, &qid);

        if (blen > 0 && nl[1] == '{') {
            b = json_checked(nl + 1, blen, &bid);
        } else {
            b = query_checked(nl + 1, blen, &bid);
        }

        check_merge(q, qid, b, bid);
    }

    free(copy);

    return 0;
}
