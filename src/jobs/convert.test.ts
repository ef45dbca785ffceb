import { test } from 'node:test';
import assert from 'node:assert/strict';
import { autoCast, columnConverters, convertTyped, jsonCell, parseIsoDate, rowToRecord } from './convert.js';
import type { TableDef } from '../storage/index.js';

test('auto-cast turns booleans, null, NaN and plain numbers into values and leaves other text alone', () => {
  assert.equal(autoCast('true'), true);
  assert.equal(autoCast('FALSE'), false);
  assert.equal(autoCast('True'), 'True');
  assert.equal(autoCast('null'), null);
  assert.equal(autoCast('undefined'), null);
  assert.ok(Number.isNaN(autoCast('NaN')));
  assert.equal(autoCast('42'), 42);
  assert.equal(autoCast('-3.5'), -3.5);
  assert.equal(autoCast('0'), 0);
  assert.equal(autoCast('0.25'), 0.25);
  assert.equal(autoCast('007'), '007');
  assert.equal(autoCast('1e5'), '1e5');
  assert.equal(autoCast('12345678901234567890'), '12345678901234567890');
  assert.equal(autoCast(''), '');
  assert.equal(autoCast('rex'), 'rex');
});

test('ISO-8601 text becomes a Date, read as UTC when it has no zone', () => {
  assert.deepEqual(autoCast('2024-03-04'), new Date('2024-03-04T00:00:00Z'));
  assert.deepEqual(parseIsoDate('2024-03-04T05:06:07'), new Date('2024-03-04T05:06:07Z'));
  assert.deepEqual(parseIsoDate('2024-03-04T05:06:07+02:00'), new Date('2024-03-04T03:06:07Z'));
  assert.equal(parseIsoDate('2024-13-45'), undefined);
  assert.equal(parseIsoDate('March 4'), undefined);
});

test('JSON-looking cells become objects and arrays only when they parse', () => {
  assert.deepEqual(jsonCell('{"a":1}'), { a: 1 });
  assert.deepEqual(jsonCell('[1,"x"]'), [1, 'x']);
  assert.equal(jsonCell('{not json}'), undefined);
  assert.equal(jsonCell('plain'), undefined);
});

test('declared types convert text or refuse it with the spec message', () => {
  assert.equal(convertTyped('Int', '-12', 'n'), -12);
  assert.equal(convertTyped('Long', '$z', 'n'), 35);
  assert.equal(convertTyped('Float', '1.5e3', 'f'), 1500);
  assert.equal(convertTyped('BigInt', '123456789012345678901', 'b'), 123456789012345678901n);
  assert.equal(convertTyped('Boolean', 'True', 'b'), true);
  assert.deepEqual(convertTyped('Date', '2024-01-02', 'd'), new Date('2024-01-02T00:00:00Z'));
  assert.deepEqual(convertTyped('Date', '0', 'd'), new Date(0));
  assert.equal(convertTyped('String', '007', 's'), '007');
  assert.equal(convertTyped('String', '', 's'), '');
  assert.equal(convertTyped('Int', '', 'n'), null);
  assert.equal(convertTyped('Int!', 'null', 'n'), null);
  assert.equal(convertTyped('Any', '5', 'a'), 5);
  assert.deepEqual(convertTyped('[String]', '["a"]', 'l'), ['a']);
  assert.throws(() => convertTyped('Int', '1.5', 'n'), { message: 'Invalid value for attribute n: "1.5", expecting Int' });
  assert.throws(() => convertTyped('Boolean', 'yes', 'ok'), { message: 'Invalid value for attribute ok: "yes", expecting Boolean' });
  assert.throws(() => convertTyped('Date', 'soon', 'd'), { message: 'Invalid value for attribute d: "soon", expecting Date' });
  assert.throws(() => convertTyped('Float', 'abc', 'f'), { status: 400 });
});

test('a row converts per column: declared types on schema tables, auto-cast (and JSON for files) otherwise', () => {
  const def = {
    database: 'data', name: 't', primaryKey: 'id', schemaDefined: true, audit: true, created: 0,
    attributes: [{ attribute: 'id', type: 'Int' }, { attribute: 'code', type: 'String' }],
  } as TableDef;
  const header = ['id', 'code', 'extra'];
  const rec = rowToRecord(header, ['7', '007', '{"x":1}'], columnConverters(def, header, { json: true }));
  assert.deepEqual(rec, { id: 7, code: '007', extra: { x: 1 } });
  const inline = rowToRecord(header, ['7', '007', '{"x":1}'], columnConverters(def, header, { json: false }));
  assert.equal(inline.extra, '{"x":1}');
  const dynamic = { ...def, schemaDefined: false };
  assert.deepEqual(rowToRecord(header, ['7', '007', 'true'], columnConverters(dynamic, header, { json: false })), { id: 7, code: '007', extra: true });
});
