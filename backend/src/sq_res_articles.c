/*
 * sq_res_articles: /v1/articles.
 */

#include "sq_resource.h"


static const char  *const sq_article_status[] = {
    "draft", "published", NULL
};

static const sq_field_t  sq_article_fields[] = {
    { "title", SQ_FT_STRING, SQ_FF_REQUIRED, 1, 200, NULL, NULL, NULL, NULL,
      "a string of 1 to 200 characters without control characters" },
    { "body", SQ_FT_STRING, SQ_FF_MULTILINE, 0, 60000, NULL, NULL, NULL, "",
      "a string of at most 60000 characters without control characters "
      "other than newline and tab" },
    { "status", SQ_FT_ENUM, 0, 0, 0, sq_article_status, NULL, NULL,
      "draft", "one of: draft, published" }
};


const sq_resource_t  sq_res_articles = {
    "/v1/articles", "article", "articles", sq_article_fields,
    sizeof(sq_article_fields) / sizeof(sq_article_fields[0]),
    0, NULL, NULL, NULL, NULL, NULL, NULL
};
