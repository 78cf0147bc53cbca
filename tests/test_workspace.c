/* workspace_id in the query string: strict, unambiguous */

#include <string.h>

#include "sq_workspace.h"
#include "unit.h"


static sq_ws_rc_t
q(const char *args, uint64_t *id)
{
    return sq_workspace_from_query(args, strlen(args), id);
}


START_TEST(absent)
{
    uint64_t  id = 7;

    ck_assert_int_eq(q("", &id), SQ_WS_NONE);
    ck_assert_int_eq(q("a=1&b=2", &id), SQ_WS_NONE);
    ck_assert_int_eq(q("workspace_idx=1&xworkspace_id=2", &id), SQ_WS_NONE);
    ck_assert_int_eq(q("workspace_id[]=1", &id), SQ_WS_NONE);
    ck_assert_int_eq(q("&&&", &id), SQ_WS_NONE);
    ck_assert_uint_eq(id, 7);
}
END_TEST


START_TEST(valid)
{
    uint64_t  id = 0;

    ck_assert_int_eq(q("workspace_id=42", &id), SQ_WS_OK);
    ck_assert_uint_eq(id, 42);
    ck_assert_int_eq(q("limit=5&workspace_id=7&x=y", &id), SQ_WS_OK);
    ck_assert_uint_eq(id, 7);
    ck_assert_int_eq(q("workspace%5Fid=9", &id), SQ_WS_OK);
    ck_assert_uint_eq(id, 9);
    ck_assert_int_eq(q("workspace_id=%31%32", &id), SQ_WS_OK);
    ck_assert_uint_eq(id, 12);
    ck_assert_int_eq(q("workspace_id=9007199254740991", &id), SQ_WS_OK);
    ck_assert_uint_eq(id, 9007199254740991ULL);
}
END_TEST


START_TEST(invalid)
{
    size_t       i;
    uint64_t     id;
    const char  *bad[] = {
        "workspace_id", "workspace_id=", "workspace_id=42abc",
        "workspace_id=-1", "workspace_id=0", "workspace_id=042",
        "workspace_id=+42", "workspace_id=%2B42", "workspace_id= 42",
        "workspace_id=42+", "workspace_id=4%202", "workspace_id=1.5",
        "workspace_id=0x10", "workspace_id=9007199254740992",
        "workspace_id=99999999999999999999999999",
        "workspace_id=%", "workspace_id=%4", "workspace_id=%zz",
        "workspace_id=%00", "workspace_id=4%002",
        "workspace_id=%EF%BC%94%EF%BC%92",      /* fullwidth digits */
        "workspace_id=\xd9\xa4"                 /* arabic-indic four */
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(q(bad[i], &id) == SQ_WS_INVALID, "accepted: %s",
                      bad[i]);
    }
}
END_TEST


START_TEST(duplicates)
{
    uint64_t  id;

    ck_assert_int_eq(q("workspace_id=1&workspace_id=1", &id),
                     SQ_WS_DUPLICATE);
    ck_assert_int_eq(q("workspace_id=1&workspace_id=2", &id),
                     SQ_WS_DUPLICATE);
    ck_assert_int_eq(q("workspace_id=1&workspace%5fid=2", &id),
                     SQ_WS_DUPLICATE);
    ck_assert_int_eq(q("workspace_id=&workspace_id=2", &id),
                     SQ_WS_DUPLICATE);
}
END_TEST


START_TEST(not_nul_terminated)
{
    uint64_t     id = 0;
    const char  *s = "workspace_id=123456";

    /* only the first 15 bytes are the query: "workspace_id=12" */
    ck_assert_int_eq(sq_workspace_from_query(s, 15, &id), SQ_WS_OK);
    ck_assert_uint_eq(id, 12);
}
END_TEST


Suite *
sq_workspace_suite(void)
{
    Suite  *s = suite_create("workspace");
    TCase  *tc = tcase_create("query");

    tcase_add_test(tc, absent);
    tcase_add_test(tc, valid);
    tcase_add_test(tc, invalid);
    tcase_add_test(tc, duplicates);
    tcase_add_test(tc, not_nul_terminated);
    suite_add_tcase(s, tc);

    return s;
}
