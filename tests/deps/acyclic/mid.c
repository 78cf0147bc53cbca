#include "m.h"


static int helper(int x);


/* low.c has a static helper() too: neither file calls the other's */
int
mid_run(int x)
{
    int  (*cb)(void) = top_main;     /* a callback handed down: no call */

    (void) cb;
    return low_add(helper(x), 1);
}


static int
helper(int x)
{
    return x + 1;
}
