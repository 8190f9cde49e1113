-- GET customers by email (case-insensitive): c<i>@<domain> with i random below BENCH_EMAIL_COUNT.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
local domain = os.getenv("BENCH_EMAIL_DOMAIN")
local count = tonumber(os.getenv("BENCH_EMAIL_COUNT"))

function init(args)
  seed_random()
end

function request()
  -- Upper case on purpose: the lookup must fold case on both sides.
  local email = string.format("C%d@%s", math.random(0, count - 1), string.upper(domain))
  return wrk.format(nil, "/api/v1/customers?email=" .. email .. "&limit=50")
end
