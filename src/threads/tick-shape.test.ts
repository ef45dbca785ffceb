// The pin must survive full GCs with no other nextTick entry alive: that is exactly when V8 drops the entries'
// hidden class and node's nextTick falls onto the runtime path for the rest of the thread's life. %HaveSameMap needs
// --allow-natives-syntax, so the check runs in a child node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const moduleUrl = new URL('./tick-shape.js', import.meta.url).href;

const script = `
import { createHook } from 'node:async_hooks';
import { pinTickObjectShape } from ${JSON.stringify(moduleUrl)};
const pinned = pinTickObjectShape();
const again = pinTickObjectShape();
const tick = () => { let r; const h = createHook({ init(i, t, g, o) { if (t === 'TickObject') r = o; } }).enable(); process.nextTick(() => {}); h.disable(); return r; };
for (let k = 0; k < 20; k++) { for (let i = 0; i < 10000; i++) process.nextTick(() => {}); await new Promise((r) => setImmediate(r)); }
await new Promise((r) => setTimeout(r, 5));
for (let i = 0; i < 3; i++) globalThis.gc();
await new Promise((r) => setTimeout(r, 5));
const fresh = tick();
console.log(JSON.stringify({ pinned: typeof pinned, samePin: pinned === again, sameMap: %HaveSameMap(pinned, fresh) }));
`;

test('the pinned nextTick entry keeps the hidden class that later entries get, across full GCs', () => {
  const res = spawnSync(process.execPath, ['--allow-natives-syntax', '--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  assert.deepEqual(JSON.parse(res.stdout.trim()), { pinned: 'object', samePin: true, sameMap: true });
});
