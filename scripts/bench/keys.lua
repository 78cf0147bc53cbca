-- wrk script for `make bench`: a different API key on every request,
-- round robin over the file given after "--" (one key a line).  Each wrk
-- thread starts at its own offset so threads do not move in lock step.

local nthreads = 0

function setup(thread)
    thread:set("tid", nthreads)
    nthreads = nthreads + 1
end

local keys = {}
local i = 0

function init(args)
    for line in io.lines(args[1]) do
        if line ~= "" then
            keys[#keys + 1] = line
        end
    end
    assert(#keys > 0, "no keys in " .. tostring(args[1]))
    i = ((tid or 0) * 4999) % #keys
end

function request()
    i = i % #keys + 1
    return wrk.format(nil, nil, { Authorization = "Bearer " .. keys[i] })
end
