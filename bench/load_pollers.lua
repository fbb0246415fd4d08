-- wrk script for bench/load.py: pollers that send back the last ETag they saw.
--
-- FACSTAT_LOAD_PORTS ("8001,8002"): thread i connects to port i mod n, so one wrk run
-- spreads its connections evenly over the API processes and its percentiles cover
-- them all. FACSTAT_LOAD_PATH: the polled path. FACSTAT_LOAD_ETAG: the ETag every
-- thread starts with (pollers that have polled before), empty for none.
--
-- wrk gives Lua no per-connection state, so the ETag is per thread: every
-- connection of a thread sends the ETag of the last 200 that thread read (all of a
-- thread's connections go to one process). After a change, the first 200 a thread
-- reads updates the tag for all its connections: fewer 200s than 250 independent
-- pollers would get.
--
-- done() prints wrk_report.lua's FACSTAT_WRK line, then
-- FACSTAT_LOAD {"status":{"200":n,"304":n,...},"stale":n}.
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "wrk_report.lua")
local report = done

local path = os.getenv("FACSTAT_LOAD_PATH") or "/api/v1/status"
local ports = {}
for p in string.gmatch(os.getenv("FACSTAT_LOAD_PORTS") or "", "%d+") do
  ports[#ports + 1] = p
end

local threads = {}
local next_thread = 0

setup = function(thread)
  local port = ports[next_thread % #ports + 1]
  thread.addr = wrk.lookup("127.0.0.1", port)[1]
  next_thread = next_thread + 1
  threads[#threads + 1] = thread
end

etag = os.getenv("FACSTAT_LOAD_ETAG")
if etag == "" then
  etag = nil
end
counts = {}
stale = 0

request = function()
  if etag then
    return wrk.format("GET", path, { ["If-None-Match"] = etag })
  end
  return wrk.format("GET", path)
end

response = function(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
  if status == 200 then
    etag = headers["etag"] or headers["ETag"] or etag
  end
  if headers["x-facstat-stale"] then
    stale = stale + 1
  end
end

done = function(summary, latency, requests)
  report(summary, latency, requests)
  local total, stale_total = {}, 0
  for _, t in ipairs(threads) do
    for status, n in pairs(t:get("counts")) do
      total[status] = (total[status] or 0) + n
    end
    stale_total = stale_total + t:get("stale")
  end
  local parts = {}
  for status, n in pairs(total) do
    parts[#parts + 1] = string.format('"%d":%d', status, n)
  end
  io.write(string.format('FACSTAT_LOAD {"status":{%s},"stale":%d}\n',
    table.concat(parts, ","), stale_total))
end
