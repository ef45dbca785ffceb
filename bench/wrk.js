// What bench/run.js and bench/write-ceiling.js share about wrk: whether it is installed, the Lua done() hook that
// prints a run's figures as one JSON line, and reading that line back.
import { execSync } from 'node:child_process';

export function hasWrk() {
  try { execSync('wrk --version', { stdio: 'ignore' }); return true; } catch (e) { return e.status === 1; /* wrk --version exits 1 */ }
}

/** Lua for a wrk script: prints requests, duration (us), p50/p99 (ms) and error counts as one `WRKJSON {...}` line. */
export const WRK_DONE_LUA = `done = function(summary, latency, requests)
  io.write(string.format('WRKJSON {"requests":%d,"duration":%d,"p50":%f,"p99":%f,"errors":%d,"status":%d,"timeout":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write, summary.errors.status, summary.errors.timeout))
end
`;

/** The figures WRK_DONE_LUA printed in wrk's output, or undefined when it printed none. */
export function parseWrk(out) {
  const m = /WRKJSON (\{.*\})/.exec(out);
  return m ? JSON.parse(m[1]) : undefined;
}
