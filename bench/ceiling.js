// The ceiling: a bare node:http hello-world server with N processes (node:cluster), the same shape of work Weft's
// workers do (N processes on one port). Usage: node bench/ceiling.js <port> <processes>
import cluster from 'node:cluster';
import http from 'node:http';

const port = Number(process.argv[2] ?? 0);
const n = Number(process.argv[3] ?? 2);
if (cluster.isPrimary) {
  for (let i = 0; i < n; i++) cluster.fork();
  let ready = 0;
  cluster.on('message', (_w, msg) => { if (msg === 'ready' && ++ready === n) console.log('ceiling ready'); });
  process.on('SIGTERM', () => { for (const w of Object.values(cluster.workers)) w.kill(); process.exit(0); });
} else {
  const body = JSON.stringify({ hello: 'world' });
  http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }).listen(port, '127.0.0.1', () => process.send('ready'));
}
