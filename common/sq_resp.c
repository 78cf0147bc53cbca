/*
 * sq_resp: a bounded copy of hiredis's reply-object functions.
 */

#include <stddef.h>

#include "sq_resp.h"


static redisReplyObjectFunctions   sq_resp_fns;
static void                      *(*sq_resp_create_array)(
                                      const redisReadTask *task, int n);


static void *
sq_resp_array(const redisReadTask *task, int elements)
{
    if (elements < 0 || elements > SQ_RESP_ARRAY_MAX) {
        return NULL;    /* hiredis: "Out of memory", a reader error */
    }

    return sq_resp_create_array(task, elements);
}


void
sq_resp_bound(redisReader *reader)
{
    if (reader == NULL || reader->fn == NULL
        || reader->fn->createArray == NULL)
    {
        return;
    }

    if (sq_resp_create_array == NULL) {
        /* hiredis's defaults, the same for every reader it creates */
        sq_resp_fns = *reader->fn;
        sq_resp_create_array = sq_resp_fns.createArray;
        sq_resp_fns.createArray = sq_resp_array;
    }

    if (reader->fn->createArray != sq_resp_array) {
        reader->fn = &sq_resp_fns;
    }
}
