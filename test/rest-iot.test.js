// The examples/iot application end to end: devices, readings joined to devices, computed Fahrenheit, a custom
// aggregate resource, and a caching table in front of an upstream weather service this test runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, tempRoot } from './harness.js';

const EXAMPLE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'examples', 'iot');

function startWeather() {
  const calls = [];
  const server = http.createServer((req, res) => {
    const location = decodeURIComponent(req.url.slice(1));
    calls.push(location);
    if (location === 'atlantis') { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ temperature: 21.5, summary: `sunny in ${location}` }));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}`, calls,
    close: () => { server.closeAllConnections(); return new Promise((r) => server.close(r)); },
  })));
}

test('the IoT example: devices, readings with a relationship, an aggregate resource and a cached upstream', async () => {
  // a copy, so the linked node_modules/weftdb never lands in the repository
  const app = tempRoot('weft-iot-');
  fs.cpSync(EXAMPLE, app, { recursive: true });
  const weather = await startWeather();
  const server = await startServer({ app, threads: 2, env: { WEATHER_URL: weather.url } });
  try {
    for (const [id, name, location] of [['d1', 'Greenhouse', 'oslo'], ['d2', 'Cellar', 'bergen']]) {
      assert.equal((await server.rest('PUT', `/Device/${id}`, { body: { name, location } })).status, 204);
    }
    const temps = { d1: [20, 25, 30], d2: [10] };
    for (const [deviceId, list] of Object.entries(temps)) {
      for (const temperature of list) {
        const r = await server.rest('POST', '/Reading/', { body: { deviceId, temperature } });
        assert.equal(r.status, 201, r.text);
      }
    }

    const hot = await server.rest('GET', '/Reading/?temperature=ge=25&sort(temperature)&select(temperature,fahrenheit,device{name})');
    assert.equal(hot.status, 200, hot.text);
    assert.deepEqual(hot.json, [
      { temperature: 25, fahrenheit: 77, device: { name: 'Greenhouse' } },
      { temperature: 30, fahrenheit: 86, device: { name: 'Greenhouse' } },
    ]);

    const inCellar = await server.rest('GET', '/Reading/?device.name=Cellar&select(temperature)');
    assert.deepEqual(inCellar.json, [10], 'readings filtered by a property of their device');

    const devices = await server.rest('GET', '/Device/?sort(name)&select(name,readings{temperature})');
    assert.deepEqual(devices.json.map((d) => [d.name, d.readings.map((r) => r.temperature).sort((a, b) => a - b)]), [
      ['Cellar', [10]], ['Greenhouse', [20, 25, 30]],
    ]);

    const stats = await server.rest('GET', '/DeviceStats/d1');
    assert.equal(stats.status, 200, stats.text);
    assert.deepEqual(stats.json, { device: 'Greenhouse', count: 3, min: 20, max: 30, mean: 25 });
    assert.equal((await server.rest('GET', '/DeviceStats/nope')).status, 404);
    assert.equal((await server.rest('GET', '/DeviceStats/d1', { auth: null })).status, 401, 'the aggregate needs a login');

    const w1 = await server.rest('GET', '/Weather/oslo');
    assert.equal(w1.status, 200, w1.text);
    assert.deepEqual(w1.json, { id: 'oslo', temperature: 21.5, summary: 'sunny in oslo' });
    assert.match(w1.headers.get('server-timing'), /miss/);
    const w2 = await server.rest('GET', '/Weather/oslo', { headers: { 'Cache-Control': 'only-if-cached' } });
    assert.equal(w2.status, 200, 'the stored entry is visible to every worker');
    assert.deepEqual(weather.calls, ['oslo'], 'the upstream was called once');
    assert.equal((await server.rest('GET', '/Weather/atlantis')).status, 404);
  } finally {
    await server.stop();
    await weather.close();
  }
});
