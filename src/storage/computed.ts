/**
 * Computed attributes (spec §5.1 `@computed`): derived from the other properties of a record, never stored.
 * `computed` on an AttributeDef holds the `from` expression (JavaScript over the record's declared properties);
 * an empty expression means the function is supplied at run time with `Table.setComputedAttribute`. Indexed
 * computed attributes are indexed by the value computed at write time, so the index stays in step with writes.
 */
import type { Rec, TableDef } from './types.js';

export type ComputeFn = (record: Rec) => unknown;

/** Functions given by application code, by `<db>.<table>.<attr>`; per thread, like the applications themselves. */
const supplied = new Map<string, ComputeFn>();

export function setComputedFunction(database: string, table: string, attribute: string, fn: ComputeFn): void {
  supplied.set(`${database}.${table}.${attribute}`, fn);
}

const IDENT = /^[A-Za-z_$][\w$]*$/;

function compile(def: TableDef, expr: string): ComputeFn {
  const names = def.attributes.filter((a) => a.computed === undefined && IDENT.test(a.attribute)).map((a) => a.attribute);
  try {
    // the expression sees the record's declared properties as variables, and the record itself as `record`
    const fn = new Function('record', `const {${names.join(', ')}} = record; return (${expr});`) as ComputeFn;
    return (r) => { try { return fn(r); } catch { return undefined; } };
  } catch {
    return () => undefined; // a syntax error in the schema: the attribute is always empty (the schema loader warns)
  }
}

/** The compute function of every computed attribute of a table definition. */
export function computedAttributes(def: TableDef): Map<string, ComputeFn> {
  const out = new Map<string, ComputeFn>();
  for (const a of def.attributes) {
    if (a.computed === undefined) continue;
    if (a.computed) out.set(a.attribute, compile(def, a.computed));
    else {
      const key = `${def.database}.${def.name}.${a.attribute}`;
      out.set(a.attribute, (r) => { const f = supplied.get(key); if (!f) return undefined; try { return f(r); } catch { return undefined; } });
    }
  }
  return out;
}

/** Is `expr` a valid `from` expression? (undefined when it is; the parser's message otherwise) */
export function computedSyntaxError(expr: string): string | undefined {
  try { new Function('record', `return (${expr});`); return undefined; } catch (e) { return (e as Error).message; }
}
