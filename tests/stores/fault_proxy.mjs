// Test tooling: an HTTP proxy on loopback that makes a store misbehave the way real links
// and servers do. usage: node fault_proxy.mjs UPSTREAM_PORT [options]
//   --latency-ms N     every request waits N ms before it is forwarded
//   --error-rate P     a fraction P of requests is answered 500 (not forwarded)
//   --reset-rate P     a fraction P of answers is cut off: headers, half the body, then a reset
//   --drip-rate P      a fraction P of answers is sent at --drip-bps bytes per second
//   --drip-bps N       (default 2000)
//   --seed N           the faults' random sequence (default 1)
// Prints "PORT <n>" once listening; on stdin's end prints "STATS <json>" and stops.
import http from 'node:http';

const args = process.argv.slice(2);
const upstreamPort = Number(args.shift());
const opt = { latencyMs: 0, errorRate: 0, resetRate: 0, dripRate: 0, dripBps: 2000, seed: 1 };
for (let i = 0; i < args.length; i += 2) {
  const key = args[i].replace(/^--/, '').replace(/-(.)/g, (_, c) => c.toUpperCase()).replace('Bps', 'Bps');
  if (!(key in opt)) throw new Error(`unknown option ${args[i]}`);
  opt[key] = Number(args[i + 1]);
}
let state = opt.seed >>> 0 || 1;
const random = () => {  // xorshift32: the same faults on every run
  state ^= state << 13; state >>>= 0;
  state ^= state >>> 17;
  state ^= state << 5; state >>>= 0;
  return state / 4294967296;
};
const stats = { requests: 0, errors: 0, resets: 0, drips: 0 };
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const server = http.createServer(async (req, res) => {
  stats.requests += 1;
  const roll = random();
  if (opt.latencyMs > 0) await sleep(opt.latencyMs);
  if (roll < opt.errorRate) {
    stats.errors += 1;
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end('injected failure\n');
    return;
  }
  const reset = roll < opt.errorRate + opt.resetRate;
  const drip = !reset && roll < opt.errorRate + opt.resetRate + opt.dripRate;
  const up = http.request({ host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers, agent }, async (ur) => {
    const chunks = [];
    for await (const c of ur) chunks.push(c);
    const body = Buffer.concat(chunks);
    res.writeHead(ur.statusCode, ur.headers);
    if (reset) {
      stats.resets += 1;
      res.write(body.subarray(0, body.length >> 1));
      await sleep(5);
      res.socket.destroy();
      return;
    }
    if (drip) {
      stats.drips += 1;
      const step = Math.max(1, Math.floor(opt.dripBps / 20));
      for (let o = 0; o < body.length && !res.destroyed; o += step) {
        res.write(body.subarray(o, o + step));
        await sleep(50);
      }
      res.end();
      return;
    }
    res.end(body);
  });
  up.on('error', () => res.socket?.destroy());
  req.pipe(up);
});
server.keepAliveTimeout = 30000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`PORT ${server.address().port}\n`));
process.stdin.on('end', () => {
  process.stdout.write(`STATS ${JSON.stringify(stats)}\n`);
  process.exit(0);
});
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
