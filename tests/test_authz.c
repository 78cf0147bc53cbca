/* the sq_authz reply: what is accepted, what fails closed */

#include <stdio.h>
#include <string.h>

#include "sq_authz.h"
#include "unit.h"


#define TEN_FIELDS(code)                                                      \
    code, "7", "12", "live", "secret", "social:read social:write", "4,5",    \
    "0", "0", "0"


/* a RESP reply (wire bytes) parsed by hiredis as Redis would send it */
static redisReply *
from_wire(const char *buf, size_t len)
{
    void          *reply;
    redisReader   *rd;

    rd = redisReaderCreate();
    ck_assert_ptr_nonnull(rd);
    ck_assert_int_eq(redisReaderFeed(rd, buf, len), REDIS_OK);
    ck_assert_int_eq(redisReaderGetReply(rd, &reply), REDIS_OK);
    ck_assert_ptr_nonnull(reply);
    redisReaderFree(rd);

    return reply;
}


/* RESP array of n bulk strings: the older libraries' form */
static redisReply *
resp(size_t n, const char **items)
{
    char    buf[8192];
    size_t  i, off;

    off = (size_t) snprintf(buf, sizeof(buf), "*%zu\r\n", n);

    for (i = 0; i < n; i++) {
        off += (size_t) snprintf(buf + off, sizeof(buf) - off,
                                 "$%zu\r\n%s\r\n", strlen(items[i]),
                                 items[i]);
    }

    return from_wire(buf, off);
}


/* one bulk string of the n items joined by '|': today's form */
static redisReply *
joined(size_t n, const char **items)
{
    char    body[4096], buf[8192];
    size_t  i, off;

    off = 0;

    for (i = 0; i < n; i++) {
        off += (size_t) snprintf(body + off, sizeof(body) - off, "%s%s",
                                 i ? "|" : "", items[i]);
    }

    off = (size_t) snprintf(buf, sizeof(buf), "$%zu\r\n%s\r\n", off, body);

    return from_wire(buf, off);
}


static sq_authz_code_t
parse_str(const char *s, sq_authz_t *a)
{
    sq_authz_code_t   code;
    redisReply       *r = joined(1, &s);

    code = sq_authz_parse(r, a);
    freeReplyObject(r);

    return code;
}


/*
 * Parses the items in both forms; they must agree, except that only the
 * array may leave out expires_at (9 fields).
 */
static sq_authz_code_t
parse(size_t n, const char **items, sq_authz_t *a)
{
    sq_authz_t        b;
    sq_authz_code_t   code;
    redisReply       *r = resp(n, items);

    code = sq_authz_parse(r, a);
    freeReplyObject(r);

    r = joined(n, items);
    sq_authz_parse(r, &b);
    freeReplyObject(r);

    if (n == 9) {
        ck_assert_int_eq(b.code, SQ_AUTHZ_INVALID);
        ck_assert_int_eq(b.user_id_len, 0);

    } else {
        ck_assert_int_eq(b.code, code);
        ck_assert(memcmp(a, &b, sizeof(b)) == 0);
    }

    return code;
}


START_TEST(test_ok_fields)
{
    sq_authz_t   a;
    const char  *items[] = { "OK", "7", "12", "test", "publishable",
                             "urls:read", "", "1700000000", "1800000000",
                             "1900000000" };

    ck_assert_int_eq(parse(10, items, &a), SQ_AUTHZ_OK);
    ck_assert_str_eq(a.user_id, "7");
    ck_assert_str_eq(a.key_id, "12");
    ck_assert_int_eq(a.key_id_len, 2);
    ck_assert_int_eq(a.mode, SQ_KEY_TEST);
    ck_assert_int_eq(a.type, SQ_KEY_PUBLISHABLE);
    ck_assert_str_eq(a.scopes, "urls:read");
    ck_assert_int_eq(a.workspaces_len, 0);
    ck_assert_int_eq(a.rotated_at, 1700000000);
    ck_assert_int_eq(a.sunset_at, 1800000000);
    ck_assert_int_eq(a.expires_at, 1900000000);
    /* the sunset comes first */
    ck_assert_int_eq(sq_authz_until(&a), 1800000000);
}
END_TEST


START_TEST(test_codes)
{
    size_t            i;
    sq_authz_t        a;
    const char       *items[] = { TEN_FIELDS("OK") };
    static const struct {
        const char       *name;
        sq_authz_code_t   code;
    } codes[] = {
        { "OK", SQ_AUTHZ_OK }, { "DISABLED", SQ_AUTHZ_DISABLED },
        { "EXPIRED", SQ_AUTHZ_EXPIRED }, { "DELETED", SQ_AUTHZ_DELETED },
        { "ROTATED", SQ_AUTHZ_ROTATED }, { "FORBIDDEN", SQ_AUTHZ_FORBIDDEN },
        { "ok", SQ_AUTHZ_INVALID }, { "ALLOW", SQ_AUTHZ_INVALID },
        { "", SQ_AUTHZ_INVALID }
    };

    for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        items[0] = codes[i].name;
        ck_assert_int_eq(parse(10, items, &a), codes[i].code);
        ck_assert_str_eq(sq_authz_code_name(a.code),
                         codes[i].code == SQ_AUTHZ_INVALID
                         ? "INVALID" : codes[i].name);
    }
}
END_TEST


START_TEST(test_unknown)
{
    sq_authz_t   a;
    const char  *one[] = { "UNKNOWN" };
    const char  *two[] = { "UNKNOWN", "7" };

    ck_assert_int_eq(parse(1, one, &a), SQ_AUTHZ_UNKNOWN);
    ck_assert_int_eq(a.user_id_len, 0);
    ck_assert_int_eq(parse(2, two, &a), SQ_AUTHZ_INVALID);
}
END_TEST


/* the library from before the cache: usable, but never cached */
START_TEST(test_nine_fields)
{
    sq_authz_t   a;
    const char  *items[] = { TEN_FIELDS("OK") };

    ck_assert_int_eq(parse(9, items, &a), SQ_AUTHZ_OK);
    ck_assert_int_eq(a.expires_at, -1);
    ck_assert_int_eq(sq_authz_until(&a), -1);
    ck_assert_int_eq(parse(8, items, &a), SQ_AUTHZ_INVALID);
}
END_TEST


/* each field with a value that must fail the whole reply closed */
START_TEST(test_bad_fields)
{
    size_t       i;
    sq_authz_t   a;
    const char  *items[10];
    const char  *ok[] = { TEN_FIELDS("OK") };
    static const struct {
        size_t       field;
        const char  *value;
    } bad[] = {
        { 1, "" }, { 1, "7a" }, { 1, "-7" }, { 1, "123456789012345678901" },
        { 2, "" }, { 2, " 12" },
        { 3, "LIVE" }, { 3, "" }, { 4, "admin" },
        { 5, "social:read\nx" }, { 5, "Social:read" }, { 5, "a;b" },
        { 6, "4, 5" }, { 6, "4;5" },
        { 7, "" }, { 7, "-1" }, { 7, "1e9" }, { 7, "99999999999999999999" },
        { 8, "x" }, { 9, "1.5" }, { 9, "2000000000000" }
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memcpy(items, ok, sizeof(items));
        items[bad[i].field] = bad[i].value;
        ck_assert_msg(parse(10, items, &a) == SQ_AUTHZ_INVALID,
                      "field %zu \"%s\" accepted", bad[i].field,
                      bad[i].value);
        ck_assert_int_eq(a.user_id_len, 0);
    }
}
END_TEST


START_TEST(test_not_arrays)
{
    sq_authz_t    a;
    void         *reply;
    redisReader  *rd;
    size_t        i;
    static const char  *wire[] = {
        "-ERR Function not found\r\n", "+OK\r\n", ":1\r\n", "$-1\r\n",
        "*0\r\n", "*1\r\n:1\r\n", "*-1\r\n",
        "+OK|7|12|live|secret|a:read||0|0|0\r\n"
    };
    static const sq_authz_code_t  want[] = {
        SQ_AUTHZ_REDIS_ERROR, SQ_AUTHZ_INVALID, SQ_AUTHZ_INVALID,
        SQ_AUTHZ_INVALID, SQ_AUTHZ_INVALID, SQ_AUTHZ_INVALID,
        SQ_AUTHZ_INVALID, SQ_AUTHZ_INVALID
    };

    for (i = 0; i < sizeof(wire) / sizeof(wire[0]); i++) {
        rd = redisReaderCreate();
        ck_assert_int_eq(redisReaderFeed(rd, wire[i], strlen(wire[i])),
                         REDIS_OK);
        ck_assert_int_eq(redisReaderGetReply(rd, &reply), REDIS_OK);
        ck_assert_int_eq(sq_authz_parse(reply, &a), want[i]);
        freeReplyObject(reply);
        redisReaderFree(rd);
    }

    ck_assert_int_eq(sq_authz_parse(NULL, &a), SQ_AUTHZ_INVALID);
}
END_TEST


/* a '|' anywhere, as a stored value could hold, is one field too many */
START_TEST(test_separator)
{
    char          buf[256];
    size_t        i;
    sq_authz_t    a;
    const char   *ok = "OK|7|12|live|secret|social:read|4,5|0|0|0";
    const char   *items[10];
    const char   *fields[] = { TEN_FIELDS("OK") };
    static const char  *bad[] = {
        "", "|", "UNKNOWN|", "|UNKNOWN", "OK", "OK|7|12|live|secret|s||0|0",
        "OK|7|12|live|secret|social:read|4,5|0|0|0||",
        "OK|7|12|live|secret|social:read|4,5|0|0|0|0",
        "OK|7|12|live|oauth|social:read|4|0|0|0|3|",
        "OK|7|12|live|secret|social:read|4,5|0|0|0\n"
    };

    ck_assert_int_eq(parse_str(ok, &a), SQ_AUTHZ_OK);
    ck_assert_str_eq(a.scopes, "social:read");
    ck_assert_str_eq(a.workspaces, "4,5");
    ck_assert_int_eq(parse_str("UNKNOWN", &a), SQ_AUTHZ_UNKNOWN);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(parse_str(bad[i], &a) == SQ_AUTHZ_INVALID,
                      "\"%s\" accepted", bad[i]);
        ck_assert_int_eq(a.user_id_len, 0);
    }

    /* each field with a separator inside: refused in both forms */
    for (i = 1; i < 10; i++) {
        memcpy(items, fields, sizeof(items));
        snprintf(buf, sizeof(buf), "%s|%s", fields[i], fields[i]);
        items[i] = buf;
        ck_assert_msg(parse(10, items, &a) == SQ_AUTHZ_INVALID,
                      "field %zu with a separator accepted", i);
    }
}
END_TEST


/* the library with app_id: an empty one for a key */
START_TEST(test_eleven_fields_key)
{
    sq_authz_t   a;
    const char  *items[] = { TEN_FIELDS("OK"), "" };

    ck_assert_int_eq(parse(11, items, &a), SQ_AUTHZ_OK);
    ck_assert_int_eq(a.type, SQ_KEY_SECRET);
    ck_assert_int_eq(a.app_id_len, 0);
    ck_assert_str_eq(a.app_id, "");
    ck_assert_str_eq(a.workspaces, "4,5");
    ck_assert_int_eq(a.expires_at, 0);
}
END_TEST


/* an OAuth access token: type oauth, its app's id (issue 14) */
START_TEST(test_oauth_token)
{
    size_t       i;
    sq_authz_t   a;
    const char  *items[11];
    const char  *ok[] = { "OK", "7", "31", "live", "oauth",
                          "social:read urls:write", "4", "0", "0",
                          "1900000000", "3" };
    static const struct {
        size_t       field;
        const char  *value;
    } bad[] = {
        { 10, "" },                         /* a token names its app */
        { 10, "3a" }, { 10, "-3" }, { 10, " 3" },
        { 10, "123456789012345678901" },    /* over SQ_AUTHZ_ID_MAX */
        { 4, "OAuth" }, { 4, "oauth " }
    };

    ck_assert_int_eq(parse(11, ok, &a), SQ_AUTHZ_OK);
    ck_assert_int_eq(a.type, SQ_KEY_OAUTH);
    ck_assert_int_eq(a.mode, SQ_KEY_LIVE);
    ck_assert_str_eq(a.app_id, "3");
    ck_assert_int_eq(a.app_id_len, 1);
    ck_assert_str_eq(a.key_id, "31");
    ck_assert_str_eq(a.workspaces, "4");
    ck_assert_int_eq(sq_authz_until(&a), 1900000000);

    /* the longest id fits */
    memcpy(items, ok, sizeof(items));
    items[10] = "12345678901234567890";
    ck_assert_int_eq(parse(11, items, &a), SQ_AUTHZ_OK);
    ck_assert_int_eq(a.app_id_len, 20);

    /* FORBIDDEN and the other codes carry it too */
    memcpy(items, ok, sizeof(items));
    items[0] = "FORBIDDEN";
    ck_assert_int_eq(parse(11, items, &a), SQ_AUTHZ_FORBIDDEN);
    ck_assert_str_eq(a.app_id, "3");

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memcpy(items, ok, sizeof(items));
        items[bad[i].field] = bad[i].value;
        ck_assert_msg(parse(11, items, &a) == SQ_AUTHZ_INVALID,
                      "field %zu \"%s\" accepted", bad[i].field,
                      bad[i].value);
        ck_assert_int_eq(a.user_id_len, 0);
        ck_assert_int_eq(a.app_id_len, 0);
    }

    /* a key never names an app */
    memcpy(items, ok, sizeof(items));
    items[4] = "secret";
    ck_assert_int_eq(parse(11, items, &a), SQ_AUTHZ_INVALID);

    /* an oauth record read by a library without app_id: fail closed */
    ck_assert_int_eq(parse(10, ok, &a), SQ_AUTHZ_INVALID);
    ck_assert_int_eq(parse(9, ok, &a), SQ_AUTHZ_INVALID);
}
END_TEST


START_TEST(test_until)
{
    sq_authz_t  a;

    memset(&a, 0, sizeof(a));
    ck_assert_int_eq(sq_authz_until(&a), 0);
    a.expires_at = 500;
    ck_assert_int_eq(sq_authz_until(&a), 500);
    a.sunset_at = 700;
    ck_assert_int_eq(sq_authz_until(&a), 500);
    a.expires_at = 0;
    ck_assert_int_eq(sq_authz_until(&a), 700);
}
END_TEST


Suite *
sq_authz_suite(void)
{
    Suite  *s = suite_create("sq_authz");
    TCase  *tc = tcase_create("parse");

    tcase_add_test(tc, test_ok_fields);
    tcase_add_test(tc, test_codes);
    tcase_add_test(tc, test_unknown);
    tcase_add_test(tc, test_nine_fields);
    tcase_add_test(tc, test_bad_fields);
    tcase_add_test(tc, test_not_arrays);
    tcase_add_test(tc, test_separator);
    tcase_add_test(tc, test_eleven_fields_key);
    tcase_add_test(tc, test_oauth_token);
    tcase_add_test(tc, test_until);
    suite_add_tcase(s, tc);

    return s;
}
