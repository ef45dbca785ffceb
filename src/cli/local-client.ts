/** One Operations API request to the local server over its unix socket (requests there run as super user). */
import http from 'node:http';
import { pack } from 'msgpackr';

export interface LocalCallOptions {
  /** MessagePack keeps Dates and big integers typed (used by `weft load`); JSON is the default. */
  encoding?: 'json' | 'msgpack';
  agent?: http.Agent;
}

export function callLocal(socketPath: string, body: unknown, opts: LocalCallOptions = {}): Promise<{ status: number; body: any }> {
  const payload = opts.encoding === 'msgpack' ? pack(body) : Buffer.from(JSON.stringify(body));
  const contentType = opts.encoding === 'msgpack' ? 'application/x-msgpack' : 'application/json';
  return new Promise((resolve, reject) => {
    const req = http.request({
      socketPath, agent: opts.agent, path: '/', method: 'POST',
      headers: { 'Content-Type': contentType, Accept: 'application/json', 'Content-Length': payload.length },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try { parsed = JSON.parse(text); } catch { /* keep text */ }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}
