/* acyclic: top.c -> mid.c -> low.c; headers m.h -> low.h */
#include "low.h"
int mid_run(int x);
int top_main(void);
