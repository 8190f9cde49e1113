-- GET one customer by id, picked at random from BENCH_IDS_FILE (one id a line).
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
local ids = {}

function init(args)
  seed_random()
  for line in io.lines(os.getenv("BENCH_IDS_FILE")) do
    table.insert(ids, line)
  end
end

function request()
  return wrk.format(nil, "/api/v1/customers/" .. ids[math.random(#ids)])
end
