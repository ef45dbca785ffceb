import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFastifyRoutes } from './fastify-routes.js';

test('without route files the fallback handler is used as is, so fastify is never imported', async () => {
  const next = () => {};
  const deps = { execute: async () => undefined, users: {} as any, config: {} as any, logger: {} as any, transport: 'http' as const };
  assert.equal(await createFastifyRoutes([], deps, next), next);
  assert.equal(await createFastifyRoutes([{ name: 'app', files: [], urlPath: 'app' }], deps, next), next);
});
