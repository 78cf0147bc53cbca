/*
 * sq_social: platform enum and handle rules.
 */

#include <string.h>

#include "sq_social.h"
#include "sq_text.h"


static const char  *const sq_platforms[] = {
    "twitter", "facebook", "instagram", "linkedin", "tiktok", "youtube"
};


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
