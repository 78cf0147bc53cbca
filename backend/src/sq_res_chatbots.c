/*
 * sq_res_chatbots: /v1/chatbots.  A chatbot needs an explicit workspace:
 * there is no fallback to the primary one.
 */

#include "sq_resource.h"


/* 1..64 characters of [a-z0-9._-] */
static int
sq_chatbot_model(const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')
              || s[i] == '.' || s[i] == '_' || s[i] == '-'))
        {
            return -1;
        }
    }

    return len >= 1 && len <= 64 ? 0 : -1;
}


static const sq_field_t  sq_chatbot_fields[] = {
    { "name", SQ_FT_STRING, SQ_FF_REQUIRED, 1, 100, NULL, NULL, NULL, NULL,
      "a string of 1 to 100 characters without control characters" },
    { "model", SQ_FT_STRING, SQ_FF_REQUIRED, 1, 64, NULL, sq_chatbot_model,
      NULL, NULL, "a string of 1 to 64 characters of a-z, 0-9, '.', '_' "
      "and '-'" },
    { "instructions", SQ_FT_STRING, SQ_FF_MULTILINE, 0, 8000, NULL, NULL,
      NULL, "", "a string of at most 8000 characters without control "
      "characters other than newline and tab" }
};


const sq_resource_t  sq_res_chatbots = {
    "/v1/chatbots", "chatbot", "chatbots", sq_chatbot_fields,
    sizeof(sq_chatbot_fields) / sizeof(sq_chatbot_fields[0]),
    SQ_RES_WS_REQUIRED, NULL, NULL, NULL, NULL, NULL, NULL
};
