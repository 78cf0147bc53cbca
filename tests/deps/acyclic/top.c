#include "m.h"
#include "shared.h"


/* mid_run() in a comment and "low_add(" in a string are not calls */
int
top_main(void)
{
    const char  *s = "low_add(1, 2)";

    (void) s;
    return mid_run(helper(1));
}


static int
helper(int x)
{
    return x;
}
