/* key digests, secret files, identity signatures */

#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sq_identity.h"
#include "unit.h"


#define S(x)  { x, sizeof(x) - 1 }


static uint8_t  secret[SQ_SECRET_BYTES];


static void
setup(void)
{
    ck_assert_int_eq(sq_crypto_init(), 0);
    memset(secret, 0x5a, sizeof(secret));
}


static sq_identity_t
sample(void)
{
    sq_identity_t  id = {
        S("GET"), S("/v1/me?workspace_id=4"), S("3"), S("7"), S("4"),
        S("live"), S("secret"), S("social:read social:write"), S("4,5"),
        S(""), S("1790000000"), S("00112233445566778899aabbccddeeff"),
        S("7e4b1c9a0f2d3e5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c"),
        S("")
    };

    return id;
}


START_TEST(sign_verify_roundtrip)
{
    char           sig[SQ_MAC_HEX_LEN + 1];
    sq_identity_t  id = sample();

    sq_identity_sign_hex(secret, &id, sig);
    ck_assert_uint_eq(strlen(sig), SQ_MAC_HEX_LEN);
    ck_assert_int_eq(sq_identity_verify_hex(secret, &id, sig, strlen(sig)),
                     0);
}
END_TEST


/* the edge's prepared signer gives the very MAC the backend checks */
START_TEST(prepared_signer_same_mac)
{
    char           a[SQ_MAC_HEX_LEN + 1], b[SQ_MAC_HEX_LEN + 1];
    sq_signer_t    signer;
    sq_identity_t  id = sample();

    sq_signer_init(&signer, secret);
    sq_identity_sign_hex(secret, &id, a);
    sq_identity_sign_hex_with(&signer, &id, b);
    ck_assert_str_eq(a, b);

    /* and it can be used again: the keyed state is copied, not consumed */
    id.timestamp.data = "1790000001";
    sq_identity_sign_hex(secret, &id, a);
    sq_identity_sign_hex_with(&signer, &id, b);
    ck_assert_str_eq(a, b);
    ck_assert_int_eq(sq_identity_verify_hex(secret, &id, b, strlen(b)), 0);
}
END_TEST


START_TEST(every_field_is_covered)
{
    int             i;
    char            sig[SQ_MAC_HEX_LEN + 1];
    sq_str_t       *f;
    sq_identity_t   id, changed;

    id = sample();
    sq_identity_sign_hex(secret, &id, sig);

    for (i = 0; i < (int) SQ_IDENTITY_FIELDS; i++) {
        changed = id;
        f = &((sq_str_t *) &changed)[i];
        f->data = "9";
        f->len = 1;
        ck_assert_msg(sq_identity_verify_hex(secret, &changed, sig,
                                             SQ_MAC_HEX_LEN) != 0,
                      "field %d not covered", i);
    }

    /* moving a byte across the separator changes the MAC */
    changed = id;
    changed.user_id.data = "37";
    changed.user_id.len = 2;
    changed.key_id.data = "";
    changed.key_id.len = 0;
    ck_assert_int_ne(sq_identity_verify_hex(secret, &changed, sig,
                                            SQ_MAC_HEX_LEN), 0);
}
END_TEST


/* the digest in parts, as the edge does over buffers, is the one-shot */
START_TEST(content_digest_parts)
{
    char                 a[SQ_DIGEST_HEX_LEN + 1], b[SQ_DIGEST_HEX_LEN + 1];
    const char          *body = "{\"title\": \"t\", \"workspace_id\": 4}";
    size_t               len, cut;
    sq_content_digest_t  st;

    len = strlen(body);
    sq_content_digest_hex(body, len, a);
    ck_assert_uint_eq(strlen(a), SQ_DIGEST_HEX_LEN);

    for (cut = 0; cut <= len; cut++) {
        sq_content_digest_init(&st);
        sq_content_digest_update(&st, body, cut);
        sq_content_digest_update(&st, body + cut, len - cut);
        sq_content_digest_final(&st, b);
        ck_assert_str_eq(a, b);
    }

    /* BLAKE2b-256 of "abc" (RFC 7693 parameters, 32-byte output) */
    sq_content_digest_hex("abc", 3, a);
    ck_assert_str_eq(a, "bddd813c634239723171ef3fee98579b"
                        "94964e3bb1cb3e427262c8c068d52319");

    sq_content_digest_hex(body, len - 1, b);
    ck_assert_str_ne(a, b);
}
END_TEST


START_TEST(nonces_differ)
{
    int   i;
    char  a[SQ_NONCE_HEX_LEN + 1], b[SQ_NONCE_HEX_LEN + 1];

    sq_nonce_hex(a);
    ck_assert_uint_eq(strlen(a), SQ_NONCE_HEX_LEN);
    ck_assert_uint_eq(strspn(a, "0123456789abcdef"), SQ_NONCE_HEX_LEN);

    for (i = 0; i < 100; i++) {
        sq_nonce_hex(b);
        ck_assert_str_ne(a, b);
    }
}
END_TEST


/*
 * The version string is signed: a v3 signer's MAC is not a v4 one; the
 * message by hand, as sq_identity.h documents it, with a long field so
 * that it spans several of the signer's buffers, and the v3 MAC
 * (HMAC-SHA-512-256) of the same message refused.
 */
START_TEST(version_is_v5)
{
    char                              sig[SQ_MAC_HEX_LEN + 1];
    char                              longuri[700];
    uint8_t                           mac[SQ_MAC_BYTES];
    size_t                            i;
    sq_identity_t                     id = sample();
    const sq_str_t                   *part;
    crypto_generichash_state          st;
    crypto_auth_hmacsha512256_state   hs;

    ck_assert_str_eq(SQ_IDENTITY_VERSION, "smartlyq-v5");

    memset(longuri, 'u', sizeof(longuri));
    longuri[0] = '/';
    id.uri.data = longuri;
    id.uri.len = sizeof(longuri);

    part = (const sq_str_t *) &id;
    crypto_generichash_init(&st, secret, sizeof(secret), SQ_MAC_BYTES);
    crypto_generichash_update(&st, (const uint8_t *) "smartlyq-v5", 11);
    for (i = 0; i < SQ_IDENTITY_FIELDS; i++) {
        crypto_generichash_update(&st, (const uint8_t *) "\n", 1);
        crypto_generichash_update(&st, (const uint8_t *) part[i].data,
                                  part[i].len);
    }
    crypto_generichash_final(&st, mac, sizeof(mac));
    sodium_bin2hex(sig, sizeof(sig), mac, sizeof(mac));

    ck_assert_uint_eq(SQ_IDENTITY_FIELDS, 14);
    ck_assert_ptr_eq(&part[9], &id.app_id);     /* after key_workspaces */
    ck_assert_int_eq(sq_identity_verify_hex(secret, &id, sig,
                                            SQ_MAC_HEX_LEN), 0);

    /* v4: the same fields but app_id, under its own version string */
    crypto_generichash_init(&st, secret, sizeof(secret), SQ_MAC_BYTES);
    crypto_generichash_update(&st, (const uint8_t *) "smartlyq-v4", 11);
    for (i = 0; i < SQ_IDENTITY_FIELDS; i++) {
        if (&part[i] == &id.app_id) {
            continue;
        }
        crypto_generichash_update(&st, (const uint8_t *) "\n", 1);
        crypto_generichash_update(&st, (const uint8_t *) part[i].data,
                                  part[i].len);
    }
    crypto_generichash_final(&st, mac, sizeof(mac));
    sodium_bin2hex(sig, sizeof(sig), mac, sizeof(mac));

    ck_assert_int_ne(sq_identity_verify_hex(secret, &id, sig,
                                            SQ_MAC_HEX_LEN), 0);

    crypto_auth_hmacsha512256_init(&hs, secret, sizeof(secret));
    crypto_auth_hmacsha512256_update(&hs, (const uint8_t *) "smartlyq-v3",
                                     11);
    for (i = 0; i < SQ_IDENTITY_FIELDS; i++) {
        crypto_auth_hmacsha512256_update(&hs, (const uint8_t *) "\n", 1);
        crypto_auth_hmacsha512256_update(&hs,
                                         (const uint8_t *) part[i].data,
                                         part[i].len);
    }
    crypto_auth_hmacsha512256_final(&hs, mac);
    sodium_bin2hex(sig, sizeof(sig), mac, sizeof(mac));

    ck_assert_int_ne(sq_identity_verify_hex(secret, &id, sig,
                                            SQ_MAC_HEX_LEN), 0);
}
END_TEST


/* an OAuth token's app is bound: another app, or none, breaks the MAC */
START_TEST(app_id_is_signed)
{
    char           sig[SQ_MAC_HEX_LEN + 1];
    sq_identity_t  id = sample();

    id.key_type.data = "oauth";
    id.key_type.len = 5;
    id.key_workspaces.data = "4";
    id.key_workspaces.len = 1;
    id.app_id.data = "12";
    id.app_id.len = 2;

    sq_identity_sign_hex(secret, &id, sig);
    ck_assert_int_eq(sq_identity_verify_hex(secret, &id, sig,
                                            SQ_MAC_HEX_LEN), 0);

    id.app_id.data = "13";
    ck_assert_int_ne(sq_identity_verify_hex(secret, &id, sig,
                                            SQ_MAC_HEX_LEN), 0);

    id.app_id.len = 0;
    ck_assert_int_ne(sq_identity_verify_hex(secret, &id, sig,
                                            SQ_MAC_HEX_LEN), 0);

    /* the field boundary counts: "4" + "12" is not "41" + "2" */
    id.key_workspaces.data = "41";
    id.key_workspaces.len = 2;
    id.app_id.data = "2";
    id.app_id.len = 1;
    ck_assert_int_ne(sq_identity_verify_hex(secret, &id, sig,
                                            SQ_MAC_HEX_LEN), 0);
}
END_TEST


START_TEST(wrong_secret_or_garbage)
{
    char           sig[SQ_MAC_HEX_LEN + 1];
    uint8_t        other[SQ_SECRET_BYTES];
    sq_identity_t  id = sample();

    sq_identity_sign_hex(secret, &id, sig);
    memset(other, 0x11, sizeof(other));

    ck_assert_int_ne(sq_identity_verify_hex(other, &id, sig, SQ_MAC_HEX_LEN),
                     0);
    ck_assert_int_ne(sq_identity_verify_hex(secret, &id, sig, 10), 0);
    ck_assert_int_ne(sq_identity_verify_hex(secret, &id, "zz", 2), 0);

    sig[0] = sig[0] == 'a' ? 'b' : 'a';
    ck_assert_int_ne(sq_identity_verify_hex(secret, &id, sig,
                                            SQ_MAC_HEX_LEN), 0);
}
END_TEST


START_TEST(digest_is_keyed_and_stable)
{
    char     a[SQ_DIGEST_HEX_LEN + 1], b[SQ_DIGEST_HEX_LEN + 1];
    char     key[80];
    uint8_t  pepper2[SQ_SECRET_BYTES];

    sq_test_key(key, "sqk_live_", 40, 'q');
    sq_key_digest_hex(secret, key, strlen(key), a);
    sq_key_digest_hex(secret, key, strlen(key), b);
    ck_assert_str_eq(a, b);
    ck_assert_uint_eq(strlen(a), SQ_DIGEST_HEX_LEN);
    ck_assert_ptr_null(strstr(a, "sqk_"));

    memset(pepper2, 0x01, sizeof(pepper2));
    sq_key_digest_hex(pepper2, key, strlen(key), b);
    ck_assert_str_ne(a, b);
}
END_TEST


START_TEST(secret_files)
{
    int      fd;
    char     path[] = "/tmp/sq-unit-secretXXXXXX", err[256];
    char     hex[SQ_SECRET_BYTES * 2 + 1];
    FILE    *f;
    uint8_t  out[SQ_SECRET_BYTES];

    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);

    sq_random_hex(hex, SQ_SECRET_BYTES);
    f = fopen(path, "w");
    fprintf(f, "  %s\n", hex);
    fclose(f);
    ck_assert_int_eq(sq_secret_load(path, out, err, sizeof(err)), 0);

    f = fopen(path, "w");
    fprintf(f, "%.*s\n", SQ_SECRET_BYTES * 2 - 2, hex);
    fclose(f);
    ck_assert_int_eq(sq_secret_load(path, out, err, sizeof(err)), -1);

    hex[5] = 'g';
    f = fopen(path, "w");
    fprintf(f, "%s\n", hex);
    fclose(f);
    ck_assert_int_eq(sq_secret_load(path, out, err, sizeof(err)), -1);

    unlink(path);
    ck_assert_int_eq(sq_secret_load(path, out, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "cannot open"));
}
END_TEST


Suite *
sq_identity_suite(void)
{
    Suite  *s = suite_create("identity");
    TCase  *tc = tcase_create("sign");

    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, sign_verify_roundtrip);
    tcase_add_test(tc, prepared_signer_same_mac);
    tcase_add_test(tc, every_field_is_covered);
    tcase_add_test(tc, wrong_secret_or_garbage);
    tcase_add_test(tc, content_digest_parts);
    tcase_add_test(tc, nonces_differ);
    tcase_add_test(tc, version_is_v5);
    tcase_add_test(tc, app_id_is_signed);
    tcase_add_test(tc, digest_is_keyed_and_stable);
    tcase_add_test(tc, secret_files);
    suite_add_tcase(s, tc);

    return s;
}
