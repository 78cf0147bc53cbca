/*
 * sq_res_social: /v1/social/accounts and /v1/social/posts.  A post's
 * account_id must name an account of the post's own workspace; the store
 * checks that atomically with the write (sq_res_insert/modify in
 * redis/smartlyq.lua).
 */

#include <stdio.h>
#include <string.h>

#include "sq_resource.h"
#include "sq_social.h"
#include "sq_workspace.h"


static const char  *const sq_social_platforms[] = {
    "twitter", "facebook", "instagram", "linkedin", "tiktok", "youtube",
    NULL
};

static const sq_field_t  sq_account_fields[] = {
    { "platform", SQ_FT_ENUM, SQ_FF_REQUIRED, 0, 0, sq_social_platforms,
      NULL, NULL, NULL, "one of: twitter, facebook, instagram, linkedin, "
      "tiktok, youtube" },
    { "handle", SQ_FT_STRING, SQ_FF_REQUIRED, 1, SQ_HANDLE_MAX_CHARS, NULL,
      NULL, NULL, NULL, "a string of 1 to 100 characters without control "
      "characters" }
};

const sq_resource_t  sq_res_social_accounts = {
    "/v1/social/accounts", "social_account", "social_accounts",
    sq_account_fields,
    sizeof(sq_account_fields) / sizeof(sq_account_fields[0]),
    0, NULL, NULL, NULL, NULL, NULL, NULL
};


static const char  *const sq_post_status[] = {
    "draft", "scheduled", "published", "failed", NULL
};


/* "scheduled" needs a time to be scheduled at */
static int
sq_post_check(const json_t *fields, char *err, size_t errlen)
{
    const char  *status;

    status = json_string_value(json_object_get(fields, "status"));

    if (status != NULL && strcmp(status, "scheduled") == 0
        && !json_is_string(json_object_get(fields, "scheduled_at")))
    {
        snprintf(err, errlen, "scheduled_at is required when status is "
                 "scheduled.");
        return -1;
    }

    return 0;
}


static const sq_field_t  sq_post_fields[] = {
    { "account_id", SQ_FT_INT, SQ_FF_REQUIRED, 1,
      (int64_t) SQ_WORKSPACE_ID_MAX, NULL, NULL, NULL, NULL,
      "the integer id of a social account of the workspace" },
    { "text", SQ_FT_STRING, SQ_FF_REQUIRED | SQ_FF_MULTILINE, 1, 5000, NULL,
      NULL, NULL, NULL, "a string of 1 to 5000 characters without control "
      "characters other than newline and tab" },
    { "scheduled_at", SQ_FT_TIME, SQ_FF_NULLABLE, 0, 0, NULL, NULL, NULL,
      NULL, "a UTC time written YYYY-MM-DDTHH:MM:SSZ, or null" },
    { "status", SQ_FT_ENUM, 0, 0, 0, sq_post_status, NULL, NULL, "draft",
      "one of: draft, scheduled, published, failed" }
};

const sq_resource_t  sq_res_social_posts = {
    "/v1/social/posts", "social_post", "social_posts", sq_post_fields,
    sizeof(sq_post_fields) / sizeof(sq_post_fields[0]),
    0, NULL, NULL, "account_id", "social_account",
    "account_id must be the id of a social account in this workspace.",
    sq_post_check
};
