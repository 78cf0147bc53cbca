int a_run(int x);


int
c_run(int x)
{
    return a_run(x);
}
