-- POST a new customer with 2 custom fields (a fresh email each time).
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
wrk.headers["Content-Type"] = "application/json"
local counter = 0
local run = os.time()

function init(args)
  seed_random()
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"firstname": "Load", "lastname": "Test %d", "email": "load-%d-%d-%d@writes.bench.example", ' ..
    '"company": "Bench Co", "address_country": "DEU", "options": {"custom_fields": [' ..
    '{"name": "tier", "type": "string", "value": "gold"}, ' ..
    '{"name": "points", "type": "integer", "value": "%d"}]}}',
    counter, run, thread_id or 0, counter, math.random(0, 100000))
  return wrk.format(nil, "/api/v1/customers", nil, body)
end
