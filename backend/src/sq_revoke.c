/*
 * sq_revoke: POST /oauth/revoke (RFC 7009).  The client authenticates
 * as at the token endpoint; an access token (sqo_) ends alone, a refresh
 * token (sqr_) ends its whole family (RFC 7009 2.1: the access tokens of
 * the same grant too).  An unknown, malformed or another client's token
 * gets the same 200 (2.2), and nothing changes.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sq_keys.h"
#include "sq_log.h"
#include "sq_public.h"


static void
sq_revoke_done(redisReply *reply, void *data)
{
    sq_pub_t  *p = data;

    if (sq_pub_enter(p, reply) != 0) {
        goto done;
    }

    if (strcmp(sq_pub_status(reply), "OK") != 0) {
        sq_pub_internal(p);
        goto done;
    }

    sq_log(SQ_LOG_INFO, "revoke: app %llu: %lld access token(s) revoked",
           (unsigned long long) p->app_id,
           reply->elements > 1 && reply->element[1]->type
           == REDIS_REPLY_INTEGER ? reply->element[1]->integer : 0LL);
    sq_pub_json(p, 200, strdup("{}"));

done:
    sq_pub_finish(p);
}


static void
sq_revoke_token(sq_pub_t *p, const redisReply *app)
{
    char         d[SQ_DIGEST_HEX_LEN + 1];
    size_t       len;
    sq_argv_t    a;
    const char  *t;

    (void) app;

    t = sq_form_get(&p->form, "token", &len);
    p->key1[0] = '\0';
    p->key2[0] = '\0';

    if (sq_pub_token_shape("sqo_", t, len)) {
        sq_pub_digest(p, t, d);
        snprintf(p->key1, sizeof(p->key1), SQ_K_KEY, d);

    } else if (sq_pub_token_shape("sqr_", t, len)) {
        sq_pub_digest(p, t, d);
        snprintf(p->key2, sizeof(p->key2), SQ_K_REFRESH, d);

    } else {
        sq_pub_json(p, 200, strdup("{}"));
        return;
    }

    sq_pub_fcall(&a, "sq_oauth_revoke", 2);
    sq_argv_str(&a, p->key1);
    sq_argv_str(&a, p->key2);
    sq_argv_u64(&a, p->app_id);
    sq_argv_fmt(&a, "%lld", (long long) p->now);

    sq_pub_send(p, &a, sq_revoke_done);
}


void
sq_revoke_post(sq_pub_t *p)
{
    if (sq_pub_parse(p) != 0) {
        return;
    }

    if (sq_form_get(&p->form, "token", NULL) == NULL) {
        sq_pub_oauth_error(p, "invalid_request", "token is required");
        return;
    }

    sq_client_auth(p, sq_revoke_token);
}
