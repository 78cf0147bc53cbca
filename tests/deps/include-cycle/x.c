#include "x.h"


int
x_run(void)
{
    return 0;
}
