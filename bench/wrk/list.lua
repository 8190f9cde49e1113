-- GET the first page of 50 customers, newest first.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
wrk.method = "GET"
wrk.path = "/api/v1/customers?limit=50"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
