/*
 * sq_store_social: social accounts created by `sqctl account create`, in
 * the layout of the records the API serves (redis/SCHEMA.md; written by
 * the sq_res_* functions of redis/smartlyq.lua).
 */

#include <stdlib.h>
#include <string.h>

#include "sq_json.h"
#include "sq_keys.h"
#include "sq_store.h"


sq_rc_t
sq_store_social_create(redisContext *c, uint64_t wid, const char *platform,
    const char *handle, int64_t now, sq_social_t *out)
{
    size_t   hlen;
    sq_rc_t  rc;
    sq_tx_t  tx;

    hlen = strlen(handle);
    if (sq_social_platform(platform, strlen(platform)) == NULL
        || sq_social_check_handle(handle, hlen) != 0)
    {
        return SQ_ERR_INVALID;
    }

    memset(out, 0, sizeof(*out));

    rc = sq_next_id(c, "social_account", &out->id);
    if (rc != SQ_OK) {
        return rc;
    }

    sq_tx_begin(&tx, c);
    sq_tx_add(&tx, "SET " SQ_K_RECWS " %llu NX", "social_account",
              (unsigned long long) out->id, (unsigned long long) wid);
    sq_tx_add(&tx, "HSET " SQ_K_WS_RECORD " id %llu workspace_id %llu "
              "mode live platform %s handle %s created_at %lld updated_at %lld",
              (unsigned long long) wid, "social_account",
              (unsigned long long) out->id,
              (unsigned long long) out->id, (unsigned long long) wid,
              platform, handle, (long long) now, (long long) now);
    sq_tx_add(&tx, "ZADD " SQ_K_WS_INDEX " %llu %llu",
              (unsigned long long) wid, "", "social_accounts",
              (unsigned long long) out->id, (unsigned long long) out->id);

    rc = sq_tx_exec(&tx);
    if (rc != SQ_OK) {
        return rc;
    }

    out->workspace_id = wid;
    out->created_at = now;
    out->updated_at = now;
    memcpy(out->platform, platform, strlen(platform) + 1);
    memcpy(out->handle, handle, hlen + 1);

    return SQ_OK;
}
