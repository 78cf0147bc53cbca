/*
 * sq_res_images: /v1/images.
 */

#include "sq_resource.h"


static const char  *const sq_image_types[] = {
    "image/png", "image/jpeg", "image/gif", "image/webp", NULL
};

static const sq_field_t  sq_image_fields[] = {
    { "url", SQ_FT_STRING, SQ_FF_REQUIRED, 1, 2048, NULL,
      sq_format_http_url, NULL, NULL, "an http:// or https:// URL of at "
      "most 2048 characters without spaces" },
    { "mime_type", SQ_FT_ENUM, SQ_FF_REQUIRED, 0, 0, sq_image_types, NULL,
      NULL, NULL, "one of: image/png, image/jpeg, image/gif, image/webp" },
    { "size", SQ_FT_INT, SQ_FF_REQUIRED, 0, 104857600, NULL, NULL, NULL,
      NULL, "an integer from 0 to 104857600" },
    { "alt_text", SQ_FT_STRING, 0, 0, 500, NULL, NULL, NULL, "",
      "a string of at most 500 characters without control characters" }
};


const sq_resource_t  sq_res_images = {
    "/v1/images", "image", "images", sq_image_fields,
    sizeof(sq_image_fields) / sizeof(sq_image_fields[0]),
    0, NULL, NULL, NULL, NULL, NULL, NULL
};
