/*
 * sq_res_urls: /v1/urls, short links.  The slug is unique within the
 * workspace (index sq:ws:{w<wid>}:url_slugs); an absent one is 8 random
 * base62 characters.  clicks is counted by the server only.
 */

#include <sodium.h>

#include "sq_resource.h"

#define SQ_SLUG_GEN_LEN  8


static const char  sq_slug_base62[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";


/* [A-Za-z0-9_-]{1,64} */
static int
sq_url_slug(const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
              || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'
              || s[i] == '-'))
        {
            return -1;
        }
    }

    return len >= 1 && len <= 64 ? 0 : -1;
}


static int
sq_url_slug_generate(char *out, size_t cap)
{
    size_t  i;

    if (cap < SQ_SLUG_GEN_LEN + 1) {
        return -1;
    }

    for (i = 0; i < SQ_SLUG_GEN_LEN; i++) {
        out[i] = sq_slug_base62[randombytes_uniform(62)];
    }

    out[SQ_SLUG_GEN_LEN] = '\0';

    return 0;
}


static const sq_field_t  sq_url_fields[] = {
    { "target", SQ_FT_STRING, SQ_FF_REQUIRED, 1, 2048, NULL,
      sq_format_http_url, NULL, NULL, "an http:// or https:// URL of at "
      "most 2048 characters without spaces" },
    { "slug", SQ_FT_STRING, 0, 1, 64, NULL, sq_url_slug,
      sq_url_slug_generate, NULL, "1 to 64 characters of A-Z, a-z, 0-9, "
      "'_' and '-'" },
    { "clicks", SQ_FT_INT, SQ_FF_READONLY, 0, INT64_MAX, NULL, NULL, NULL,
      "0", "read-only" }
};


const sq_resource_t  sq_res_urls = {
    "/v1/urls", "url", "urls", sq_url_fields,
    sizeof(sq_url_fields) / sizeof(sq_url_fields[0]),
    0, "slug", "url_slugs", NULL, NULL, NULL, NULL
};
