// Generates the application folder the REST scenario tests run (`weft run <app>`), and small request helpers.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { tempRoot } from './harness.js';

export const SCHEMA = `
type Dog @table @export {
  id: ID @primaryKey
  name: String @indexed
  breed: String
  age: Int @indexed
  weight: Float
  tags: [String] @indexed
  born: Date
  created: Date @createdTime
  updated: Float @updatedTime
}

type Owner @table(database: "people") @export(name: "owners") @sealed {
  ownerId: Int @primaryKey
  name: String!
  active: Boolean
}

type Item @table @export {
  id: Any @primaryKey
  label: String
  n: Any @indexed
}

type Internal @table {
  id: ID @primaryKey
}

type Quiet @table @export(rest: false) {
  id: ID @primaryKey
}
`;

/** Write an application folder into a temp dir; `files` adds or replaces files (name -> contents). */
export function makeApp(files = {}) {
  const dir = tempRoot('weft-app-');
  fs.writeFileSync(path.join(dir, 'schema.graphql'), SCHEMA);
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

/** A password hash as Weft stores it (sha256 with a 16-character salt), to create users through `insert`. */
export function sha256Password(password) {
  const salt = 'abcdefghijklmnop';
  return salt + createHash('sha256').update(password + salt).digest('hex');
}

/** Add a role and a user directly in the system tables (the user operations are built elsewhere). */
export async function addUser(server, username, password, permission) {
  const roleId = `role_${username}`;
  const r1 = await server.op({ operation: 'insert', database: 'system', table: 'hdb_role', records: [{ id: roleId, role: roleId, permission }] });
  const r2 = await server.op({
    operation: 'insert', database: 'system', table: 'hdb_user',
    records: [{ username, password: sha256Password(password), role: roleId, active: true, hash_function: 'sha256' }],
  });
  if (r1.status !== 200 || r2.status !== 200) throw new Error(`could not add user: ${JSON.stringify([r1.body, r2.body])}`);
  return { username, password };
}

/** A request with node:http (fetch refuses TRACE). */
export function rawRequest(port, method, urlPath, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}
