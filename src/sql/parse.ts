/**
 * SQL text -> one statement AST, via node-sql-parser's T-SQL grammar (it accepts backticks, [brackets], TOP,
 * LIMIT/OFFSET, CAST/CONVERT and double-quoted strings, which is the closest match to the AlaSQL dialect Harper
 * users write). Parser failures become the spec's 400 messages; nothing the parser throws may reach the client as 5xx.
 */
import { createRequire } from 'node:module';
import { weftError, WeftError } from '../errors/index.js';
import type { Node, Statement } from './types.js';

const require = createRequire(import.meta.url);
type SqlParser = { astify(sql: string, opt: object): unknown; exprToSQL(expr: unknown, opt: object): string };
const OPTS = { database: 'transactsql' };
let parserInstance: SqlParser | undefined;
/**
 * Loaded on first use: the grammar takes ~0.3 s to load, which would otherwise delay every worker's start (and the
 * replacement of a crashed one) whether or not it ever sees SQL. The per-dialect build is a tenth of the size of the
 * all-dialects bundle.
 */
function sqlParser(): SqlParser {
  if (!parserInstance) {
    const { Parser } = require('node-sql-parser/build/transactsql') as { Parser: new () => SqlParser };
    parserInstance = new Parser();
  }
  return parserInstance;
}

const SUPPORTED = new Set(['select', 'insert', 'update', 'delete']);
/** Statement keywords that are valid SQL but not Weft's subset (anything else that fails to parse is a syntax error). */
const OTHER_STATEMENTS = new Set([
  'CREATE', 'DROP', 'ALTER', 'TRUNCATE', 'GRANT', 'REVOKE', 'UPSERT', 'REPLACE', 'MERGE', 'WITH', 'SHOW', 'USE', 'SET',
  'EXPLAIN', 'DESCRIBE', 'DESC', 'BEGIN', 'COMMIT', 'ROLLBACK', 'DECLARE', 'EXEC', 'EXECUTE', 'CALL', 'ATTACH', 'DETACH',
  'RENAME', 'LOCK', 'UNLOCK', 'VALUES', 'SOURCE', 'ASSERT', 'REINDEX', 'VACUUM', 'ANALYZE', 'PRAGMA',
]);

/** The first keyword, for the "unsupported SQL type" message (spec: the first keyword decides). */
function firstKeyword(sql: string): string {
  const m = /^\s*(?:(?:--[^\n]*\n|\/\*[\s\S]*?\*\/)\s*)*([A-Za-z_]+)/.exec(sql);
  return m ? m[1]!.toUpperCase() : '';
}

export function parseStatement(sql: string): Statement {
  const keyword = firstKeyword(sql);
  if (OTHER_STATEMENTS.has(keyword)) throw weftError('SQL_UNSUPPORTED_TYPE', keyword);
  let ast: unknown;
  try {
    ast = sqlParser().astify(sql, OPTS);
  } catch (err) {
    if (err instanceof WeftError) throw err;
    const offset = (err as { location?: { start?: { offset?: number } } })?.location?.start?.offset;
    if (typeof offset === 'number') {
      const fragment = sql.slice(offset, offset + 40).trim();
      if (fragment) throw weftError('SQL_INVALID_AT', fragment);
    }
    throw weftError('SQL_PARSE');
  }
  const list = (Array.isArray(ast) ? ast : [ast]).filter(Boolean) as Node[];
  if (list.length !== 1) throw weftError('SQL_UNSUPPORTED', 'one statement per request');
  const stmt = list[0]!;
  if (!SUPPORTED.has(String(stmt.type))) throw weftError('SQL_UNSUPPORTED_TYPE', String(stmt.type).toUpperCase());
  return stmt as Statement;
}

/** The SQL text of an expression, used to name unaliased result columns (`COUNT(*)`, `a + 1`). */
export function exprText(expr: Node): string {
  try {
    return sqlParser().exprToSQL(expr, OPTS).replace(/\[([^\]]*)\]/g, '$1');
  } catch {
    return String(expr.type);
  }
}
