-- GET one fixed path (BENCH_PATH), with a bearer token (BENCH_TOKEN) or a session cookie (BENCH_COOKIE).
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
wrk.method = "GET"
wrk.path = os.getenv("BENCH_PATH")
if os.getenv("BENCH_TOKEN") then
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
end
if os.getenv("BENCH_COOKIE") then
  wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE")
end
