/*
 * sq_social: platform enum, handle rules and the strict JSON body.
 */

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "sq_social.h"
#include "sq_text.h"
#include "sq_workspace.h"


static const char  *const sq_platforms[] = {
    "twitter", "facebook", "instagram", "linkedin", "tiktok", "youtube"
};

#define SQ_PLATFORMS_TEXT \
    "twitter, facebook, instagram, linkedin, tiktok, youtube"


const char *
sq_social_platform(const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < sizeof(sq_platforms) / sizeof(sq_platforms[0]); i++) {
        if (strlen(sq_platforms[i]) == len
            && memcmp(sq_platforms[i], s, len) == 0)
        {
            return sq_platforms[i];
        }
    }

    return NULL;
}


int
sq_social_check_handle(const char *s, size_t len)
{
    return sq_text_check(s, len, SQ_HANDLE_MAX_CHARS, SQ_HANDLE_MAX_BYTES);
}


static int
sq_social_field_platform(json_t *v, sq_social_input_t *in, char *err,
    size_t errlen)
{
    if (json_is_string(v)) {
        in->platform = sq_social_platform(json_string_value(v),
                                          json_string_length(v));
    }

    if (in->platform == NULL) {
        snprintf(err, errlen, "platform must be one of: %s.",
                 SQ_PLATFORMS_TEXT);
        return -1;
    }

    return 0;
}


static int
sq_social_field_handle(json_t *v, sq_social_input_t *in, char *err,
    size_t errlen)
{
    size_t  len;

    if (!json_is_string(v)
        || sq_social_check_handle(json_string_value(v),
                                  json_string_length(v)) != 0)
    {
        snprintf(err, errlen, "handle must be a string of 1 to %d "
                 "characters without control characters.",
                 SQ_HANDLE_MAX_CHARS);
        return -1;
    }

    len = json_string_length(v);
    memcpy(in->handle, json_string_value(v), len);
    in->handle[len] = '\0';

    return 0;
}


static int
sq_social_field_workspace(json_t *v, uint64_t ident_ws,
    sq_social_input_t *in, char *err, size_t errlen)
{
    json_int_t  n;

    n = json_is_integer(v) ? json_integer_value(v) : 0;

    if (n <= 0 || (unsigned long long) n > SQ_WORKSPACE_ID_MAX) {
        snprintf(err, errlen, "workspace_id must be a positive integer.");
        return -1;
    }

    if (ident_ws == 0 || (uint64_t) n != ident_ws) {
        snprintf(err, errlen, "workspace_id must match the workspace of "
                 "the request.");
        return -1;
    }

    in->workspace_id = (uint64_t) n;

    return 0;
}


static void
sq_social_unknown(const char *key, char *err, size_t errlen)
{
    size_t  i, len;

    len = strlen(key);

    for (i = 0; i < len; i++) {
        if (key[i] < 0x21 || key[i] > 0x7e || key[i] == '"'
            || key[i] == '\\')
        {
            break;
        }
    }

    if (len == 0 || len > 64 || i < len) {
        snprintf(err, errlen, "The request body has an unknown field.");
    } else {
        snprintf(err, errlen, "%s is not a known field.", key);
    }
}


static int
sq_social_fields(json_t *obj, uint64_t ident_ws, sq_social_input_t *in,
    char *err, size_t errlen)
{
    int          rc;
    json_t      *v;
    const char  *key;

    json_object_foreach(obj, key, v) {
        if (strcmp(key, "platform") == 0) {
            rc = sq_social_field_platform(v, in, err, errlen);
        } else if (strcmp(key, "handle") == 0) {
            rc = sq_social_field_handle(v, in, err, errlen);
        } else if (strcmp(key, "workspace_id") == 0) {
            rc = sq_social_field_workspace(v, ident_ws, in, err, errlen);
        } else {
            sq_social_unknown(key, err, errlen);
            rc = -1;
        }

        if (rc != 0) {
            return -1;
        }
    }

    return 0;
}


int
sq_social_parse_body(const char *body, size_t len, uint64_t ident_ws,
    sq_social_input_t *in, char *err, size_t errlen)
{
    int           rc;
    json_t       *obj;
    json_error_t  jerr;

    memset(in, 0, sizeof(*in));

    obj = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (obj == NULL) {
        snprintf(err, errlen, "%s",
                 json_error_code(&jerr) == json_error_duplicate_key
                 ? "The request body has a duplicate field."
                 : "The request body must be a valid JSON object.");
        return -1;
    }

    if (!json_is_object(obj)) {
        json_decref(obj);
        snprintf(err, errlen, "The request body must be a JSON object.");
        return -1;
    }

    rc = sq_social_fields(obj, ident_ws, in, err, errlen);
    json_decref(obj);

    if (rc != 0) {
        return -1;
    }

    if (in->platform == NULL) {
        snprintf(err, errlen, "platform is required.");
        return -1;
    }

    if (in->handle[0] == '\0') {
        snprintf(err, errlen, "handle is required.");
        return -1;
    }

    return 0;
}
