-- wrk script for the facstat benchmarks.
-- FACSTAT_BENCH_ETAG, when set, is sent as If-None-Match (the 304 runs).
-- done() prints one machine-readable line: FACSTAT_WRK {json}.
local etag = os.getenv("FACSTAT_BENCH_ETAG")
if etag ~= nil and etag ~= "" then
  wrk.headers["If-None-Match"] = etag
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'FACSTAT_WRK {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
