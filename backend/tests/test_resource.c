/*
 * Schema validation of every resource, the JSON document rules, cursors,
 * list parameters and the text helpers they use.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sq_resource.h"
#include "sq_text.h"
#include "tests.h"

typedef struct {
    const char  *body;
    const char  *want;      /* a part of the message */
} t_case_t;


/* parse + (on create) complete; 0 or -1, err set */
static int
t_run(const sq_resource_t *res, const char *body, sq_parse_mode_t mode,
    uint64_t ws, json_t **out, char *err, size_t errlen)
{
    json_t  *f;

    *out = NULL;

    if (sq_resource_parse(res, body, strlen(body), mode, ws, &f, err,
                          errlen) != 0)
    {
        return -1;
    }

    if (mode == SQ_PARSE_CREATE
        && sq_resource_complete(res, f, err, errlen) != 0)
    {
        json_decref(f);
        return -1;
    }

    *out = f;

    return 0;
}


static json_t *
t_ok(const sq_resource_t *res, const char *body, sq_parse_mode_t mode,
    uint64_t ws)
{
    char     err[512];
    json_t  *f;

    ck_assert_msg(t_run(res, body, mode, ws, &f, err, sizeof(err)) == 0,
                  "%s: \"%s\" refused: %s", res->path, body, err);

    return f;
}


static void
t_bad(const sq_resource_t *res, const char *body, sq_parse_mode_t mode,
    uint64_t ws, const char *want)
{
    char     err[512];
    json_t  *f;

    ck_assert_msg(t_run(res, body, mode, ws, &f, err, sizeof(err)) == -1,
                  "%s: \"%s\" accepted", res->path, body);
    ck_assert_msg(strstr(err, want) != NULL, "%s: \"%s\" -> \"%s\", want "
                  "%s", res->path, body, err, want);
}


static void
t_bad_all(const sq_resource_t *res, const t_case_t *cases, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        t_bad(res, cases[i].body, SQ_PARSE_CREATE, 5, cases[i].want);
    }
}


static const char *
t_str(json_t *f, const char *name)
{
    return json_string_value(json_object_get(f, name));
}


/* {"<name>": "<c repeated n times>"} */
static char *
t_long(const char *prefix, const char *name, char c, size_t n)
{
    static char  buf[70000];
    size_t       off;

    off = (size_t) snprintf(buf, sizeof(buf), "{%s\"%s\": \"", prefix,
                            name);
    ck_assert_uint_lt(off + n + 3, sizeof(buf));
    memset(buf + off, c, n);
    memcpy(buf + off + n, "\"}", 3);

    return buf;
}


START_TEST(test_documents)
{
    size_t         i;
    static const t_case_t  cases[] = {
        { "{\"name\": \"a\", \"model\": \"m\", \"name\": \"b\"}",
          "duplicate" },
        { "[]", "JSON object" },
        { "\"x\"", "JSON object" },
        { "", "JSON object" },
        { "null", "JSON object" },
        { "{\"name\": \"a\", \"model\": \"m\"} x", "JSON object" },
        { "{\"name\": \"a\\u0000b\", \"model\": \"m\"}", "JSON object" },
        { "{\"name\": \"\xff\", \"model\": \"m\"}", "JSON object" },
        { "{\"name\": \"a\", \"model\": \"m\", \"x\": 1}",
          "x is not a known field" },
        { "{\"name\": \"a\", \"model\": \"m\", \"a\\\"b\": 1}",
          "unknown field" },
        { "{\"id\": 3, \"name\": \"a\", \"model\": \"m\"}",
          "id is read-only" },
        { "{\"name\": \"a\", \"model\": \"m\", \"created_at\": \"x\"}",
          "created_at is read-only" },
        { "{\"name\": \"a\", \"model\": \"m\", \"updated_at\": null}",
          "updated_at is read-only" },
        { "{\"name\": \"a\", \"model\": \"m\", \"workspace_id\": 6}",
          "workspace_id must match" },
        { "{\"name\": \"a\", \"model\": \"m\", \"workspace_id\": \"6\"}",
          "workspace_id must match" },
        { "{\"name\": \"a\", \"model\": \"m\", \"workspace_id\": 0}",
          "workspace_id must be a positive integer" },
        { "{\"name\": \"a\", \"model\": \"m\", \"workspace_id\": \"05\"}",
          "workspace_id must be a positive integer" },
        { "{\"name\": \"a\", \"model\": \"m\", \"workspace_id\": 5.0}",
          "workspace_id must be a positive integer" },
        { "{\"name\": \"a\", \"model\": \"m\", \"workspace_id\": null}",
          "workspace_id must be a positive integer" }
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        t_bad(&sq_res_chatbots, cases[i].body, SQ_PARSE_CREATE, 5,
              cases[i].want);
    }

    /* workspace_id equal to the identity's, as a number or a string */
    json_decref(t_ok(&sq_res_chatbots, "{\"workspace_id\": 5, \"name\": "
                     "\"a\", \"model\": \"m\"}", SQ_PARSE_CREATE, 5));
    json_decref(t_ok(&sq_res_chatbots, "{\"workspace_id\": \"5\", "
                     "\"name\": \"a\", \"model\": \"m\"}", SQ_PARSE_CREATE,
                     5));
    /* with no workspace in the identity, none in the body either */
    t_bad(&sq_res_chatbots, "{\"workspace_id\": 5, \"name\": \"a\", "
          "\"model\": \"m\"}", SQ_PARSE_CREATE, 0, "workspace_id");
    t_bad(&sq_res_chatbots, "{\"workspace_id\": 6}", SQ_PARSE_PATCH, 5,
          "records cannot move between workspaces");
    json_decref(t_ok(&sq_res_chatbots, "{\"workspace_id\": 5}",
                     SQ_PARSE_PATCH, 5));
}
END_TEST


START_TEST(test_chatbots)
{
    json_t  *f;
    static const t_case_t  cases[] = {
        { "{\"model\": \"m\"}", "name is required" },
        { "{\"name\": \"a\"}", "model is required" },
        { "{\"name\": 1, \"model\": \"m\"}", "name must be" },
        { "{\"name\": null, \"model\": \"m\"}", "name must be" },
        { "{\"name\": \"\", \"model\": \"m\"}", "name must be" },
        { "{\"name\": \"a\\nb\", \"model\": \"m\"}", "name must be" },
        { "{\"name\": \"a\\u0085\", \"model\": \"m\"}", "name must be" },
        { "{\"name\": \"a\", \"model\": \"GPT\"}", "model must be" },
        { "{\"name\": \"a\", \"model\": \"\"}", "model must be" },
        { "{\"name\": \"a\", \"model\": \"a b\"}", "model must be" },
        { "{\"name\": \"a\", \"model\": [\"m\"]}", "model must be" },
        { "{\"name\": \"a\", \"model\": \"m\", \"instructions\": 3}",
          "instructions must be" },
        { "{\"name\": \"a\", \"model\": \"m\", \"instructions\": null}",
          "instructions must be" },
        { "{\"name\": \"a\", \"model\": \"m\", \"instructions\": "
          "\"a\\rb\"}", "instructions must be" }
    };

    t_bad_all(&sq_res_chatbots, cases, sizeof(cases) / sizeof(cases[0]));

    f = t_ok(&sq_res_chatbots, "{\"name\": \"Caf\\u00e9 bot\", \"model\": "
             "\"gpt-4.1_mini\", \"instructions\": \"be\\n\\tkind\"}",
             SQ_PARSE_CREATE, 5);
    ck_assert_str_eq(t_str(f, "name"), "Caf\xc3\xa9 bot");
    ck_assert_str_eq(t_str(f, "instructions"), "be\n\tkind");
    json_decref(f);

    f = t_ok(&sq_res_chatbots, "{\"name\": \"a\", \"model\": \"m\"}",
             SQ_PARSE_CREATE, 5);
    ck_assert_str_eq(t_str(f, "instructions"), "");
    json_decref(f);

    /* lengths: 100 name characters (multi-byte too), 64 model, 8000 */
    json_decref(t_ok(&sq_res_chatbots, t_long("\"model\": \"m\", ", "name",
                     'n', 100), SQ_PARSE_CREATE, 5));
    t_bad(&sq_res_chatbots, t_long("\"model\": \"m\", ", "name", 'n', 101),
          SQ_PARSE_CREATE, 5, "name must be");
    json_decref(t_ok(&sq_res_chatbots, t_long("\"name\": \"n\", ", "model",
                     'm', 64), SQ_PARSE_CREATE, 5));
    t_bad(&sq_res_chatbots, t_long("\"name\": \"n\", ", "model", 'm', 65),
          SQ_PARSE_CREATE, 5, "model must be");
    json_decref(t_ok(&sq_res_chatbots, t_long("\"name\": \"n\", \"model\": "
                     "\"m\", ", "instructions", 'i', 8000),
                     SQ_PARSE_CREATE, 5));
    t_bad(&sq_res_chatbots, t_long("\"name\": \"n\", \"model\": \"m\", ",
          "instructions", 'i', 8001), SQ_PARSE_CREATE, 5,
          "instructions must be");

    /* patch: only what is given, no required fields */
    f = t_ok(&sq_res_chatbots, "{\"model\": \"x\"}", SQ_PARSE_PATCH, 5);
    ck_assert_uint_eq(json_object_size(f), 1);
    json_decref(f);
    json_decref(t_ok(&sq_res_chatbots, "{}", SQ_PARSE_PATCH, 5));
    t_bad(&sq_res_chatbots, "{\"name\": null}", SQ_PARSE_PATCH, 5,
          "name must be");
    t_bad(&sq_res_chatbots, "{\"id\": 1}", SQ_PARSE_PATCH, 5,
          "id is read-only");
}
END_TEST


START_TEST(test_social)
{
    json_t  *f;
    static const t_case_t  accounts[] = {
        { "{\"handle\": \"a\"}", "platform is required" },
        { "{\"platform\": \"tiktok\"}", "handle is required" },
        { "{\"platform\": \"myspace\", \"handle\": \"a\"}",
          "platform must be one of" },
        { "{\"platform\": \"Twitter\", \"handle\": \"a\"}",
          "platform must be" },
        { "{\"platform\": 1, \"handle\": \"a\"}", "platform must be" },
        { "{\"platform\": \"tiktok\", \"handle\": \"\"}", "handle must be" },
        { "{\"platform\": \"tiktok\", \"handle\": 5}", "handle must be" },
        { "{\"platform\": \"tiktok\", \"handle\": \"a\\nb\"}",
          "handle must be" }
    };
    static const t_case_t  posts[] = {
        { "{\"text\": \"t\"}", "account_id is required" },
        { "{\"account_id\": 1}", "text is required" },
        { "{\"account_id\": \"1\", \"text\": \"t\"}", "account_id must be" },
        { "{\"account_id\": 0, \"text\": \"t\"}", "account_id must be" },
        { "{\"account_id\": 1.5, \"text\": \"t\"}", "account_id must be" },
        { "{\"account_id\": 9007199254740992, \"text\": \"t\"}",
          "account_id must be" },
        { "{\"account_id\": 1, \"text\": \"\"}", "text must be" },
        { "{\"account_id\": 1, \"text\": \"a\\u0001\"}", "text must be" },
        { "{\"account_id\": 1, \"text\": \"t\", \"status\": \"sent\"}",
          "status must be one of" },
        { "{\"account_id\": 1, \"text\": \"t\", \"status\": "
          "\"scheduled\"}", "scheduled_at is required when status" },
        { "{\"account_id\": 1, \"text\": \"t\", \"status\": "
          "\"scheduled\", \"scheduled_at\": null}", "scheduled_at" },
        { "{\"account_id\": 1, \"text\": \"t\", \"scheduled_at\": "
          "\"2026-02-30T10:00:00Z\"}", "scheduled_at must be" },
        { "{\"account_id\": 1, \"text\": \"t\", \"scheduled_at\": "
          "\"2026-01-01 10:00:00Z\"}", "scheduled_at must be" },
        { "{\"account_id\": 1, \"text\": \"t\", \"scheduled_at\": "
          "\"2026-01-01T10:00:00+01:00\"}", "scheduled_at must be" },
        { "{\"account_id\": 1, \"text\": \"t\", \"scheduled_at\": "
          "\"2026-01-01T24:00:00Z\"}", "scheduled_at must be" },
        { "{\"account_id\": 1, \"text\": \"t\", \"scheduled_at\": 17}",
          "scheduled_at must be" }
    };

    t_bad_all(&sq_res_social_accounts, accounts,
              sizeof(accounts) / sizeof(accounts[0]));
    t_bad_all(&sq_res_social_posts, posts, sizeof(posts) / sizeof(posts[0]));

    f = t_ok(&sq_res_social_accounts, "{\"platform\": \"youtube\", "
             "\"handle\": \"caf\\u00e9\"}", SQ_PARSE_CREATE, 5);
    ck_assert_str_eq(t_str(f, "handle"), "caf\xc3\xa9");
    json_decref(f);

    f = t_ok(&sq_res_social_posts, "{\"account_id\": 3, \"text\": "
             "\"hi\\nthere\"}", SQ_PARSE_CREATE, 5);
    ck_assert_str_eq(t_str(f, "status"), "draft");
    ck_assert(json_is_null(json_object_get(f, "scheduled_at")));
    json_decref(f);

    f = t_ok(&sq_res_social_posts, "{\"account_id\": 3, \"text\": \"x\", "
             "\"status\": \"scheduled\", \"scheduled_at\": "
             "\"2028-02-29T23:59:59Z\"}", SQ_PARSE_CREATE, 5);
    ck_assert_str_eq(t_str(f, "scheduled_at"), "2028-02-29T23:59:59Z");
    json_decref(f);

    json_decref(t_ok(&sq_res_social_posts, t_long("\"account_id\": 1, ",
                     "text", 't', 5000), SQ_PARSE_CREATE, 5));
    t_bad(&sq_res_social_posts, t_long("\"account_id\": 1, ", "text", 't',
          5001), SQ_PARSE_CREATE, 5, "text must be");
}
END_TEST


START_TEST(test_urls)
{
    json_t       *f;
    const char   *slug;
    static const t_case_t  cases[] = {
        { "{}", "target is required" },
        { "{\"target\": \"ftp://x.org\"}", "target must be" },
        { "{\"target\": \"https://\"}", "target must be" },
        { "{\"target\": \"https:///path\"}", "target must be" },
        { "{\"target\": \"https://a b.org\"}", "target must be" },
        { "{\"target\": \"https://a.org/\\u00e9\"}", "target must be" },
        { "{\"target\": \"https://a.org/\\t\"}", "target must be" },
        { "{\"target\": \"x.org\"}", "target must be" },
        { "{\"target\": 1}", "target must be" },
        { "{\"target\": \"http://a.org\", \"slug\": \"a/b\"}",
          "slug must be" },
        { "{\"target\": \"http://a.org\", \"slug\": \"\"}", "slug must be" },
        { "{\"target\": \"http://a.org\", \"slug\": null}", "slug must be" },
        { "{\"target\": \"http://a.org\", \"clicks\": 0}",
          "clicks is read-only" }
    };

    t_bad_all(&sq_res_urls, cases, sizeof(cases) / sizeof(cases[0]));

    f = t_ok(&sq_res_urls, "{\"target\": \"HTTPS://example.com/a?b=c#d\", "
             "\"slug\": \"My_slug-1\"}", SQ_PARSE_CREATE, 5);
    ck_assert_str_eq(t_str(f, "slug"), "My_slug-1");
    ck_assert_int_eq(json_integer_value(json_object_get(f, "clicks")), 0);
    json_decref(f);

    f = t_ok(&sq_res_urls, "{\"target\": \"http://a.org\"}",
             SQ_PARSE_CREATE, 5);
    slug = t_str(f, "slug");
    ck_assert_uint_eq(strlen(slug), 8);
    ck_assert_uint_eq(strspn(slug, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                             "abcdefghijklmnopqrstuvwxyz"), 8);
    json_decref(f);

    json_decref(t_ok(&sq_res_urls, t_long("\"target\": \"http://a.org\", ",
                     "slug", 's', 64), SQ_PARSE_CREATE, 5));
    t_bad(&sq_res_urls, t_long("\"target\": \"http://a.org\", ", "slug",
          's', 65), SQ_PARSE_CREATE, 5, "slug must be");
    t_bad(&sq_res_urls, "{\"clicks\": 4}", SQ_PARSE_PATCH, 5,
          "clicks is read-only");
}
END_TEST


START_TEST(test_articles)
{
    json_t  *f;
    static const t_case_t  cases[] = {
        { "{}", "title is required" },
        { "{\"title\": \"\"}", "title must be" },
        { "{\"title\": true}", "title must be" },
        { "{\"title\": \"t\", \"body\": 1}", "body must be" },
        { "{\"title\": \"t\", \"status\": \"scheduled\"}",
          "status must be one of" },
        { "{\"title\": \"t\", \"status\": null}", "status must be" }
    };

    t_bad_all(&sq_res_articles, cases, sizeof(cases) / sizeof(cases[0]));

    f = t_ok(&sq_res_articles, "{\"title\": \"T\"}", SQ_PARSE_CREATE, 5);
    ck_assert_str_eq(t_str(f, "body"), "");
    ck_assert_str_eq(t_str(f, "status"), "draft");
    json_decref(f);

    json_decref(t_ok(&sq_res_articles, t_long("", "title", 't', 200),
                     SQ_PARSE_CREATE, 5));
    t_bad(&sq_res_articles, t_long("", "title", 't', 201), SQ_PARSE_CREATE,
          5, "title must be");
    json_decref(t_ok(&sq_res_articles, t_long("\"title\": \"t\", ", "body",
                     'b', 60000), SQ_PARSE_CREATE, 5));
    t_bad(&sq_res_articles, t_long("\"title\": \"t\", ", "body", 'b',
          60001), SQ_PARSE_CREATE, 5, "body must be");
}
END_TEST


START_TEST(test_images_media)
{
    json_t  *f;
    static const t_case_t  images[] = {
        { "{\"mime_type\": \"image/png\", \"size\": 1}", "url is required" },
        { "{\"url\": \"http://a/b\", \"size\": 1}", "mime_type is required" },
        { "{\"url\": \"http://a/b\", \"mime_type\": \"image/png\"}",
          "size is required" },
        { "{\"url\": \"http://a/b\", \"mime_type\": \"image/bmp\", "
          "\"size\": 1}", "mime_type must be one of" },
        { "{\"url\": \"http://a/b\", \"mime_type\": \"image/png\", "
          "\"size\": -1}", "size must be" },
        { "{\"url\": \"http://a/b\", \"mime_type\": \"image/png\", "
          "\"size\": 104857601}", "size must be" },
        { "{\"url\": \"http://a/b\", \"mime_type\": \"image/png\", "
          "\"size\": \"1\"}", "size must be" },
        { "{\"url\": \"data:x\", \"mime_type\": \"image/png\", "
          "\"size\": 1}", "url must be" },
        { "{\"url\": \"http://a/b\", \"mime_type\": \"image/png\", "
          "\"size\": 1, \"alt_text\": \"a\\nb\"}", "alt_text must be" }
    };
    static const t_case_t  media[] = {
        { "{\"url\": \"http://a/b\", \"mime_type\": \"image/png\", "
          "\"size\": 1}", "mime_type must be" },
        { "{\"url\": \"http://a/b\", \"mime_type\": \"video/\", "
          "\"size\": 1}", "mime_type must be" },
        { "{\"url\": \"http://a/b\", \"mime_type\": \"video/MP4\", "
          "\"size\": 1}", "mime_type must be" },
        { "{\"url\": \"http://a/b\", \"mime_type\": \"video\", "
          "\"size\": 1}", "mime_type must be" },
        { "{\"url\": \"http://a/b\", \"mime_type\": \"audio/a/b\", "
          "\"size\": 1}", "mime_type must be" },
        { "{\"url\": \"http://a/b\", \"mime_type\": \"audio/mpeg\", "
          "\"size\": 1073741825}", "size must be" },
        { "{\"url\": \"http://a/b\", \"mime_type\": \"audio/mpeg\", "
          "\"size\": 1, \"duration_seconds\": 86401}",
          "duration_seconds must be" },
        { "{\"url\": \"http://a/b\", \"mime_type\": \"audio/mpeg\", "
          "\"size\": 1, \"duration_seconds\": 1.5}",
          "duration_seconds must be" },
        { "{\"url\": \"http://a/b\", \"size\": 1}", "mime_type is required" }
    };

    t_bad_all(&sq_res_images, images, sizeof(images) / sizeof(images[0]));
    t_bad_all(&sq_res_media, media, sizeof(media) / sizeof(media[0]));

    f = t_ok(&sq_res_images, "{\"url\": \"https://cdn.x/a.webp\", "
             "\"mime_type\": \"image/webp\", \"size\": 104857600}",
             SQ_PARSE_CREATE, 5);
    ck_assert_str_eq(t_str(f, "alt_text"), "");
    json_decref(f);

    f = t_ok(&sq_res_media, "{\"url\": \"https://cdn.x/a\", \"mime_type\": "
             "\"application/vnd.apple.mpegurl\", \"size\": 0}",
             SQ_PARSE_CREATE, 5);
    ck_assert(json_is_null(json_object_get(f, "duration_seconds")));
    json_decref(f);

    json_decref(t_ok(&sq_res_media, "{\"url\": \"http://a/b\", "
                     "\"mime_type\": \"video/mp4+x.1-2\", \"size\": "
                     "1073741824, \"duration_seconds\": 86400}",
                     SQ_PARSE_CREATE, 5));
    json_decref(t_ok(&sq_res_media, "{\"duration_seconds\": null}",
                     SQ_PARSE_PATCH, 5));
}
END_TEST


START_TEST(test_merge_and_render)
{
    char         err[256];
    json_t      *patch, *out;
    sq_record_t  rec;

    memset(&rec, 0, sizeof(rec));
    rec.id = 9;
    rec.workspace_id = 5;
    rec.created_at = 1795000000;
    rec.updated_at = 1795000060;
    rec.fields = t_ok(&sq_res_social_posts, "{\"account_id\": 3, \"text\": "
                      "\"x\", \"status\": \"scheduled\", \"scheduled_at\": "
                      "\"2030-01-01T00:00:00Z\"}", SQ_PARSE_CREATE, 5);

    /* clearing the time of a scheduled post is refused as a whole */
    patch = t_ok(&sq_res_social_posts, "{\"scheduled_at\": null}",
                 SQ_PARSE_PATCH, 5);
    ck_assert_int_eq(sq_resource_merge(&sq_res_social_posts, &rec, patch,
                                       err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "scheduled_at"));
    json_decref(patch);

    patch = t_ok(&sq_res_social_posts, "{\"scheduled_at\": null, "
                 "\"status\": \"draft\"}", SQ_PARSE_PATCH, 5);
    ck_assert_int_eq(sq_resource_merge(&sq_res_social_posts, &rec, patch,
                                       err, sizeof(err)), 0);
    json_decref(patch);

    out = sq_resource_render(&sq_res_social_posts, &rec);
    ck_assert_ptr_nonnull(out);
    {
        char  *s = json_dumps(out, 0);

        ck_assert_str_eq(s, "{\"id\": 9, \"workspace_id\": 5, "
                         "\"account_id\": 3, \"text\": \"x\", "
                         "\"scheduled_at\": null, \"status\": \"draft\", "
                         "\"created_at\": \"2026-11-18T11:06:40Z\", "
                         "\"updated_at\": \"2026-11-18T11:07:40Z\"}");
        free(s);
    }
    json_decref(out);
    json_decref(rec.fields);
}
END_TEST


START_TEST(test_cursor)
{
    char      buf[SQ_CURSOR_MAX + 1];
    uint64_t  id;

    ck_assert_int_eq(sq_cursor_encode(42, buf, sizeof(buf)), 0);
    ck_assert_int_eq(sq_cursor_decode(buf, strlen(buf), &id), 0);
    ck_assert_uint_eq(id, 42);
    ck_assert_uint_eq(strspn(buf, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                             "abcdefghijklmnopqrstuvwxyz-_"), strlen(buf));
    ck_assert_int_eq(sq_cursor_encode(9007199254740991ULL, buf,
                                      sizeof(buf)), 0);
    ck_assert_int_eq(sq_cursor_decode(buf, strlen(buf), &id), 0);
    ck_assert_uint_eq(id, 9007199254740991ULL);
    ck_assert_int_eq(sq_cursor_encode(0, buf, sizeof(buf)), -1);
    ck_assert_int_eq(sq_cursor_encode(1, buf, 3), -1);

    /* "c1:42" = YzE6NDI; broken forms */
    ck_assert_int_eq(sq_cursor_decode("YzE6NDI", 7, &id), 0);
    ck_assert_int_eq(sq_cursor_decode("YzE6NDI=", 8, &id), -1);
    ck_assert_int_eq(sq_cursor_decode("YzE6NDJ", 7, &id), -1);  /* bits */
    ck_assert_int_eq(sq_cursor_decode("YzE6ND", 6, &id), -1);
    ck_assert_int_eq(sq_cursor_decode("42", 2, &id), -1);
    ck_assert_int_eq(sq_cursor_decode("", 0, &id), -1);
    ck_assert_int_eq(sq_cursor_decode("YzE6MA", 6, &id), -1);   /* c1:0 */
    ck_assert_int_eq(sq_cursor_decode("YzE6MDQy", 8, &id), -1); /* c1:042 */
    ck_assert_int_eq(sq_cursor_decode("YzI6NDI", 7, &id), -1);  /* c2:42 */
    ck_assert_int_eq(sq_cursor_decode("YzE6NDI+", 8, &id), -1);
}
END_TEST


static void
t_page_bad(const char *q, const char *want)
{
    char      err[256];
    size_t    limit;
    uint64_t  after;

    ck_assert_msg(sq_page_parse(q, &limit, &after, err, sizeof(err)) == -1,
                  "\"%s\" accepted", q);
    ck_assert_msg(strstr(err, want) != NULL, "\"%s\" -> %s", q, err);
}


START_TEST(test_page_params)
{
    char      err[256];
    size_t    limit;
    uint64_t  after;

    ck_assert_int_eq(sq_page_parse(NULL, &limit, &after, err, sizeof(err)),
                     0);
    ck_assert_uint_eq(limit, 20);
    ck_assert_uint_eq(after, 0);
    ck_assert_int_eq(sq_page_parse("workspace_id=4&limit=100&cursor=YzE6NDI"
                                   "&x", &limit, &after, err, sizeof(err)),
                     0);
    ck_assert_uint_eq(limit, 100);
    ck_assert_uint_eq(after, 42);
    ck_assert_int_eq(sq_page_parse("lim%69t=1", &limit, &after, err,
                                   sizeof(err)), 0);
    ck_assert_uint_eq(limit, 1);

    t_page_bad("limit=0", "limit");
    t_page_bad("limit=101", "limit");
    t_page_bad("limit=-1", "limit");
    t_page_bad("limit=05", "limit");
    t_page_bad("limit=", "limit");
    t_page_bad("limit", "limit");
    t_page_bad("limit=1x", "limit");
    t_page_bad("limit=99999999999999999999", "limit");
    t_page_bad("limit=1&limit=1", "limit must be given only once");
    t_page_bad("limit=1&lim%69t=2", "limit must be given only once");
    t_page_bad("cursor=YzE6NDI&cursor=YzE6NDI",
               "cursor must be given only once");
    t_page_bad("cursor=", "cursor");
    t_page_bad("cursor=garbage!", "cursor");
    t_page_bad("cursor=%zz", "cursor");
}
END_TEST


START_TEST(test_text_ex)
{
    int64_t  t;

    ck_assert_int_eq(sq_text_check_ex("", 0, 0, 5, 0), 0);
    ck_assert_int_eq(sq_text_check_ex("", 0, 1, 5, 0), -1);
    ck_assert_int_eq(sq_text_check_ex("a\nb\t", 4, 0, 5, 1), 0);
    ck_assert_int_eq(sq_text_check_ex("a\nb", 3, 0, 5, 0), -1);
    ck_assert_int_eq(sq_text_check_ex("a\rb", 3, 0, 5, 1), -1);
    ck_assert_int_eq(sq_text_check_ex("\xc2\x9f", 2, 0, 5, 1), -1);
    ck_assert_int_eq(sq_text_check_ex("\xc2\xa0", 2, 0, 5, 1), 0);

    ck_assert_int_eq(sq_text_parse_utc("1970-01-01T00:00:00Z", 20, &t), 0);
    ck_assert_int_eq(t, 0);
    ck_assert_int_eq(sq_text_parse_utc("2026-11-18T11:06:40Z", 20, &t), 0);
    ck_assert_int_eq(t, 1795000000);
    ck_assert_int_eq(sq_text_parse_utc("2000-02-29T00:00:00Z", 20, &t), 0);
    ck_assert_int_eq(sq_text_parse_utc("1900-02-29T00:00:00Z", 20, &t), -1);
    ck_assert_int_eq(sq_text_parse_utc("2100-02-29T00:00:00Z", 20, &t), -1);
    ck_assert_int_eq(sq_text_parse_utc("2026-13-01T00:00:00Z", 20, &t), -1);
    ck_assert_int_eq(sq_text_parse_utc("2026-04-31T00:00:00Z", 20, &t), -1);
    ck_assert_int_eq(sq_text_parse_utc("2026-01-01T00:60:00Z", 20, &t), -1);
    ck_assert_int_eq(sq_text_parse_utc("2026-01-01T00:00:00z", 20, &t), -1);
    ck_assert_int_eq(sq_text_parse_utc("2026-01-01T00:00:0Z", 19, &t), -1);
}
END_TEST



/*
 * The flat reader and jansson's path give the same answer for the same
 * body: fields, or refusal and message (tests/fuzz/fuzz_backend_body.c
 * does the same over fuzzed bodies).
 */
START_TEST(test_flat_same_as_jansson)
{
    static const char  *bodies[] = {
        "{\"title\": \"Bench create\", \"body\": \"lorem\", "
        "\"status\": \"published\"}",
        " \r\n\t{ \"title\" : \"a\" ,\"status\":\"draft\" } \n",
        "{}", " { } ", "{", "}", "", "[]", "null", "\"x\"", "7",
        "{\"title\": \"a\",}", "{\"title\": \"a\"} x", "{\"title\" \"a\"}",
        "{\"title\": \"a\", \"title\": \"b\"}",
        "{\"title\": \"a\\nb\"}", "{\"title\": \"a\\u0000b\"}",
        "{\"title\": \"\xc3\xa9t\xc3\xa9\"}", "{\"title\": \"\xc3\"}",
        "{\"title\": \"a\tb\"}", "{\"title\": \"a\x7f\"}",
        "{\"title\": \"a\", \"workspace_id\": 5}",
        "{\"title\": \"a\", \"workspace_id\": \"5\"}",
        "{\"title\": \"a\", \"workspace_id\": 6}",
        "{\"title\": \"a\", \"workspace_id\": -0}",
        "{\"title\": \"a\", \"workspace_id\": 05}",
        "{\"title\": \"a\", \"workspace_id\": 5.0}",
        "{\"title\": \"a\", \"workspace_id\": 5e0}",
        "{\"title\": \"a\", \"workspace_id\": 123456789012345678}",
        "{\"title\": \"a\", \"workspace_id\": 1234567890123456789}",
        "{\"title\": \"a\", \"workspace_id\": 99999999999999999999}",
        "{\"title\": null, \"body\": true, \"status\": false}",
        "{\"title\": nul}", "{\"title\": truex}", "{\"title\": -}",
        "{\"title\": 1, \"nope\": 2}", "{\"nope\": 2, \"title\": 1}",
        "{\"id\": 1}", "{\"\": 1}", "{\"title\": {\"a\": 1}}",
        "{\"title\": [\"a\"]}",
        "{\"a1\":1,\"a2\":1,\"a3\":1,\"a4\":1,\"a5\":1,\"a6\":1,\"a7\":1,"
        "\"a8\":1,\"a9\":1,\"b1\":1,\"b2\":1,\"b3\":1,\"b4\":1,\"b5\":1,"
        "\"b6\":1,\"b7\":1,\"b8\":1}",
        "{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "\": 1}",
        "{\"status\": \"nope\", \"title\": 5}",
        "{\"title\": \"a\"}\0",
    };
    static const sq_resource_t  *const res[] = {
        &sq_res_chatbots, &sq_res_social_accounts, &sq_res_social_posts,
        &sq_res_urls, &sq_res_articles, &sq_res_images, &sq_res_media
    };

    int      rc[2], flat;
    char     err[2][512];
    size_t   i, j, len, m;
    json_t  *f[2];

    for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        len = strlen(bodies[i]);

        for (j = 0; j < sizeof(res) / sizeof(res[0]); j++) {
            for (m = 0; m < 2; m++) {
                for (flat = 0; flat < 2; flat++) {
                    err[flat][0] = '\0';
                    rc[flat] = sq_resource_parse_with(res[j], bodies[i],
                                                      len, (sq_parse_mode_t) m,
                                                      5, flat, &f[flat],
                                                      err[flat],
                                                      sizeof(err[flat]));
                }

                ck_assert_msg(rc[0] == rc[1], "%s: %s", res[j]->path,
                              bodies[i]);

                if (rc[0] != 0) {
                    ck_assert_str_eq(err[0], err[1]);
                    continue;
                }

                ck_assert_msg(json_equal(f[0], f[1]), "%s: %s",
                              res[j]->path, bodies[i]);
                json_decref(f[0]);
                json_decref(f[1]);
            }
        }
    }

    /* a NUL inside the body is not whitespace: refused by both */
    ck_assert_int_ne(sq_resource_parse_with(&sq_res_articles,
                                            "{\"title\": \"a\"}\0", 15,
                                            SQ_PARSE_PATCH, 5, 1, &f[0],
                                            err[0], sizeof(err[0])), 0);
}
END_TEST

Suite *
sq_suite_resource(void)
{
    Suite  *s = suite_create("resource");
    TCase  *tc = tcase_create("validation");

    tcase_add_test(tc, test_documents);
    tcase_add_test(tc, test_chatbots);
    tcase_add_test(tc, test_social);
    tcase_add_test(tc, test_urls);
    tcase_add_test(tc, test_articles);
    tcase_add_test(tc, test_images_media);
    tcase_add_test(tc, test_merge_and_render);
    tcase_add_test(tc, test_cursor);
    tcase_add_test(tc, test_page_params);
    tcase_add_test(tc, test_text_ex);
    tcase_add_test(tc, test_flat_same_as_jansson);
    suite_add_tcase(s, tc);

    return s;
}
