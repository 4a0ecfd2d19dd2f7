-- wrk script for bench/soak.sh: paced requests (delay) over /health/ready, /health, /metrics; logs each status; prints a summary line.
-- Arguments (after --): PAUSE_MS between two requests of a connection, STATUS_LOG file (one status per line).
local paths = { "/health/ready", "/health", "/metrics" }
local n, pause, log = 0, 40, nil

function init(args)
  pause = tonumber(args[1]) or pause
  if args[2] then log = assert(io.open(args[2], "a")) end
end

function request()
  n = n % #paths + 1
  return wrk.format("GET", paths[n])
end

function delay() return pause end

function response(status)
  if log then log:write(status, "\n"); log:flush() end
end

function done(summary, latency)
  local e = summary.errors
  io.write(string.format("WRK requests=%d duration_us=%d connect=%d read=%d write=%d timeout=%d p50_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
