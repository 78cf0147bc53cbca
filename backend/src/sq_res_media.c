/*
 * sq_res_media: /v1/media (video, audio and other files).
 */

#include <string.h>

#include "sq_resource.h"


static int
sq_media_subtype_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.'
           || c == '+' || c == '-';
}


/* video|audio|application "/" [a-z0-9.+-]{1,64} */
static int
sq_media_type(const char *s, size_t len)
{
    size_t             i, tlen;
    const char        *slash;
    static const char  *const types[] = { "video", "audio", "application" };

    slash = memchr(s, '/', len);
    if (slash == NULL) {
        return -1;
    }

    tlen = (size_t) (slash - s);

    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (strlen(types[i]) == tlen && memcmp(types[i], s, tlen) == 0) {
            break;
        }
    }

    if (i == sizeof(types) / sizeof(types[0])
        || len - tlen - 1 < 1 || len - tlen - 1 > 64)
    {
        return -1;
    }

    for (i = tlen + 1; i < len; i++) {
        if (!sq_media_subtype_char(s[i])) {
            return -1;
        }
    }

    return 0;
}


static const sq_field_t  sq_media_fields[] = {
    { "url", SQ_FT_STRING, SQ_FF_REQUIRED, 1, 2048, NULL,
      sq_format_http_url, NULL, NULL, "an http:// or https:// URL of at "
      "most 2048 characters without spaces" },
    { "mime_type", SQ_FT_STRING, SQ_FF_REQUIRED, 1, 76, NULL, sq_media_type,
      NULL, NULL, "video/, audio/ or application/ followed by 1 to 64 "
      "characters of a-z, 0-9, '.', '+' and '-'" },
    { "size", SQ_FT_INT, SQ_FF_REQUIRED, 0, 1073741824, NULL, NULL, NULL,
      NULL, "an integer from 0 to 1073741824" },
    { "duration_seconds", SQ_FT_INT, SQ_FF_NULLABLE, 0, 86400, NULL, NULL,
      NULL, NULL, "an integer from 0 to 86400, or null" }
};


const sq_resource_t  sq_res_media = {
    "/v1/media", "media", "media", sq_media_fields,
    sizeof(sq_media_fields) / sizeof(sq_media_fields[0]),
    0, NULL, NULL, NULL, NULL, NULL, NULL
};
