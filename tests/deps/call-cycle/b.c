int c_run(int x);


int
b_run(int x)
{
    return c_run(x);
}
