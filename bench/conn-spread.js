// How evenly do the workers get connections? Opens N keep-alive connections in a burst (autocannon, as the bench
// does), then reads the per-thread connection counts from system_information (threads). Usage: node bench/conn-spread.js [N] [rounds]
import autocannon from 'autocannon';
import { startServer } from '../test/harness.js';

const N = Number(process.argv[2] ?? 50);
const rounds = Number(process.argv[3] ?? 3);
const server = await startServer({ threads: 2 });
try {
  for (let r = 0; r < rounds; r++) {
    let counts;
    const inst = autocannon({ url: server.opsUrl, connections: N, duration: 2, method: 'POST',
      headers: { authorization: 'Basic ' + Buffer.from('admin:test-pass').toString('base64'), 'content-type': 'application/json' },
      body: JSON.stringify({ operation: 'describe_all' }) });
    await new Promise((res) => setTimeout(res, 1000));
    const info = await server.op({ operation: 'system_information', attributes: ['threads'] });
    counts = info.body.threads.filter((t) => t.slot >= 0).map((t) => t.connections);
    await new Promise((res) => inst.on('done', res));
    console.log(`round ${r + 1}: ${N} connections -> per worker ${counts.join(' / ')}`);
    await new Promise((res) => setTimeout(res, 500));
  }
} finally {
  await server.stop();
  await server.cleanup?.();
}
