/*
 * Identity verification: accepted and rejected header sets.
 */

#include <string.h>
#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "sq_auth.h"
#include "tests.h"

#define T_NOW  1795000000

typedef struct {
    const char  *method;
    const char  *uri;
    const char  *uid;
    const char  *kid;
    const char  *ws;
    const char  *mode;
    const char  *ts;
} t_fields_t;

static const uint8_t  t_secret[SQ_SECRET_BYTES] = { 1, 2, 3, 4, 5 };


static sq_str_t
t_str(const char *s)
{
    sq_str_t  v = { s, strlen(s) };

    return v;
}


static void
t_sign(const uint8_t *secret, const t_fields_t *f,
    char out[SQ_MAC_HEX_LEN + 1])
{
    sq_identity_t  id;

    id.method = t_str(f->method);
    id.uri = t_str(f->uri);
    id.user_id = t_str(f->uid);
    id.key_id = t_str(f->kid);
    id.workspace_id = t_str(f->ws);
    id.mode = t_str(f->mode);
    id.timestamp = t_str(f->ts);
    sq_identity_sign_hex(secret, &id, out);
}


static void
t_headers(struct evkeyvalq *h, const t_fields_t *f, const char *sig)
{
    TAILQ_INIT(h);
    evhttp_add_header(h, "Host", "backend");
    evhttp_add_header(h, "X-SmartlyQ-User-Id", f->uid);
    evhttp_add_header(h, "X-SmartlyQ-Key-Id", f->kid);
    evhttp_add_header(h, "X-SmartlyQ-Workspace-Id", f->ws);
    evhttp_add_header(h, "X-SmartlyQ-Key-Mode", f->mode);
    evhttp_add_header(h, "X-SmartlyQ-Timestamp", f->ts);
    evhttp_add_header(h, "X-SmartlyQ-Signature", sig);
}


/* Signs "signed", sends "sent" with method/uri, checks at T_NOW. */
static sq_auth_rc_t
t_check(const t_fields_t *signd, const t_fields_t *sent, sq_ident_t *out)
{
    char              sig[SQ_MAC_HEX_LEN + 1];
    sq_auth_rc_t      rc;
    struct evkeyvalq  h;

    t_sign(t_secret, signd, sig);
    t_headers(&h, sent, sig);
    rc = sq_auth_verify(t_secret, &h, sent->method, sent->uri, T_NOW, out);
    evhttp_clear_headers(&h);

    return rc;
}


static const t_fields_t  t_base = {
    "GET", "/v1/social/accounts?workspace_id=5", "12", "34", "5", "live",
    "1795000000"
};


START_TEST(test_accept)
{
    sq_ident_t  id;

    ck_assert_int_eq(t_check(&t_base, &t_base, &id), SQ_AUTH_OK);
    ck_assert_uint_eq(id.user_id, 12);
    ck_assert_uint_eq(id.key_id, 34);
    ck_assert_uint_eq(id.workspace_id, 5);
    ck_assert_int_eq(id.test_mode, 0);
}
END_TEST


START_TEST(test_accept_no_workspace_test_mode)
{
    sq_ident_t  id;
    t_fields_t  f = t_base;

    f.ws = "";
    f.mode = "test";
    f.ts = "1795000300";
    ck_assert_int_eq(t_check(&f, &f, &id), SQ_AUTH_OK);
    ck_assert_uint_eq(id.workspace_id, 0);
    ck_assert_int_eq(id.test_mode, 1);
}
END_TEST


START_TEST(test_accept_workspace_header_absent)
{
    char              sig[SQ_MAC_HEX_LEN + 1];
    sq_ident_t        id;
    t_fields_t        f = t_base;
    struct evkeyvalq  h;

    f.ws = "";
    t_sign(t_secret, &f, sig);
    t_headers(&h, &f, sig);
    evhttp_remove_header(&h, "X-SmartlyQ-Workspace-Id");
    ck_assert_int_eq(sq_auth_verify(t_secret, &h, f.method, f.uri, T_NOW,
                                    &id), SQ_AUTH_OK);
    evhttp_clear_headers(&h);
}
END_TEST


START_TEST(test_tampered)
{
    sq_ident_t  id;
    t_fields_t  f;

    f = t_base; f.method = "POST";
    ck_assert_int_eq(t_check(&t_base, &f, &id), SQ_AUTH_SIGNATURE);
    ck_assert_uint_eq(id.user_id, 0);

    f = t_base; f.uri = "/v1/social/accounts?workspace_id=6";
    ck_assert_int_eq(t_check(&t_base, &f, &id), SQ_AUTH_SIGNATURE);

    f = t_base; f.ws = "6";
    ck_assert_int_eq(t_check(&t_base, &f, &id), SQ_AUTH_SIGNATURE);

    f = t_base; f.ws = "";
    ck_assert_int_eq(t_check(&t_base, &f, &id), SQ_AUTH_SIGNATURE);

    f = t_base; f.uid = "13";
    ck_assert_int_eq(t_check(&t_base, &f, &id), SQ_AUTH_SIGNATURE);

    f = t_base; f.mode = "test";
    ck_assert_int_eq(t_check(&t_base, &f, &id), SQ_AUTH_SIGNATURE);

    f = t_base; f.ts = "1795000001";
    ck_assert_int_eq(t_check(&t_base, &f, &id), SQ_AUTH_SIGNATURE);
}
END_TEST


START_TEST(test_skew)
{
    sq_ident_t  id;
    t_fields_t  f = t_base;

    f.ts = "1794999700";
    ck_assert_int_eq(t_check(&f, &f, &id), SQ_AUTH_OK);
    f.ts = "1794999699";
    ck_assert_int_eq(t_check(&f, &f, &id), SQ_AUTH_EXPIRED);
    f.ts = "1795000301";
    ck_assert_int_eq(t_check(&f, &f, &id), SQ_AUTH_EXPIRED);
    f.ts = "0";
    ck_assert_int_eq(t_check(&f, &f, &id), SQ_AUTH_EXPIRED);
}
END_TEST


START_TEST(test_wrong_secret)
{
    char              sig[SQ_MAC_HEX_LEN + 1];
    uint8_t           other[SQ_SECRET_BYTES] = { 9 };
    sq_ident_t        id;
    struct evkeyvalq  h;

    t_sign(other, &t_base, sig);
    t_headers(&h, &t_base, sig);
    ck_assert_int_eq(sq_auth_verify(t_secret, &h, "GET", t_base.uri, T_NOW,
                                    &id), SQ_AUTH_SIGNATURE);
    evhttp_clear_headers(&h);

    t_headers(&h, &t_base, "abcd");
    ck_assert_int_eq(sq_auth_verify(t_secret, &h, "GET", t_base.uri, T_NOW,
                                    &id), SQ_AUTH_SIGNATURE);
    evhttp_clear_headers(&h);
}
END_TEST


START_TEST(test_duplicate_and_missing)
{
    char              sig[SQ_MAC_HEX_LEN + 1];
    sq_ident_t        id;
    struct evkeyvalq  h;

    t_sign(t_secret, &t_base, sig);

    t_headers(&h, &t_base, sig);
    evhttp_add_header(&h, "x-smartlyq-user-id", "12");
    ck_assert_int_eq(sq_auth_verify(t_secret, &h, "GET", t_base.uri, T_NOW,
                                    &id), SQ_AUTH_DUPLICATE);
    evhttp_clear_headers(&h);

    t_headers(&h, &t_base, sig);
    evhttp_add_header(&h, "X-SmartlyQ-Workspace-Id", "5");
    ck_assert_int_eq(sq_auth_verify(t_secret, &h, "GET", t_base.uri, T_NOW,
                                    &id), SQ_AUTH_DUPLICATE);
    evhttp_clear_headers(&h);

    t_headers(&h, &t_base, sig);
    evhttp_remove_header(&h, "X-SmartlyQ-Signature");
    ck_assert_int_eq(sq_auth_verify(t_secret, &h, "GET", t_base.uri, T_NOW,
                                    &id), SQ_AUTH_MISSING);
    evhttp_clear_headers(&h);

    TAILQ_INIT(&h);
    ck_assert_int_eq(sq_auth_verify(t_secret, &h, "GET", t_base.uri, T_NOW,
                                    &id), SQ_AUTH_MISSING);
    ck_assert_int_eq(sq_auth_verify(t_secret, &h, NULL, t_base.uri, T_NOW,
                                    &id), SQ_AUTH_MALFORMED);
}
END_TEST


START_TEST(test_malformed)
{
    size_t       i;
    sq_ident_t   id;
    t_fields_t   f;
    const char  *bad_ids[] = { "0", "01", "-1", "+1", "1 ", "",
                               "9007199254740992", "abc" };

    for (i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
        f = t_base; f.uid = bad_ids[i];
        ck_assert_int_eq(t_check(&f, &f, &id), SQ_AUTH_MALFORMED);
        f = t_base; f.kid = bad_ids[i];
        ck_assert_int_eq(t_check(&f, &f, &id), SQ_AUTH_MALFORMED);
        if (bad_ids[i][0] != '\0') {
            f = t_base; f.ws = bad_ids[i];
            ck_assert_int_eq(t_check(&f, &f, &id), SQ_AUTH_MALFORMED);
        }
    }

    f = t_base; f.mode = "LIVE";
    ck_assert_int_eq(t_check(&f, &f, &id), SQ_AUTH_MALFORMED);
    f = t_base; f.mode = "";
    ck_assert_int_eq(t_check(&f, &f, &id), SQ_AUTH_MALFORMED);
    f = t_base; f.ts = "17950000x0";
    ck_assert_int_eq(t_check(&f, &f, &id), SQ_AUTH_MALFORMED);
    f = t_base; f.ts = "-1795000000";
    ck_assert_int_eq(t_check(&f, &f, &id), SQ_AUTH_MALFORMED);
}
END_TEST


Suite *
sq_suite_auth(void)
{
    Suite  *s = suite_create("auth");
    TCase  *tc = tcase_create("identity");

    tcase_add_test(tc, test_accept);
    tcase_add_test(tc, test_accept_no_workspace_test_mode);
    tcase_add_test(tc, test_accept_workspace_header_absent);
    tcase_add_test(tc, test_tampered);
    tcase_add_test(tc, test_skew);
    tcase_add_test(tc, test_wrong_secret);
    tcase_add_test(tc, test_duplicate_and_missing);
    tcase_add_test(tc, test_malformed);
    suite_add_tcase(s, tc);

    return s;
}
