/** Shapes shared by storage and its callers. */

export type Key = string | number | boolean | Array<string | number | boolean>;
export type Rec = Record<string, unknown>;

export interface AttributeDef {
  attribute: string;
  type?: string;
  indexed?: boolean;
  is_primary_key?: boolean;
  assigned_created_time?: boolean;
  assigned_updated_time?: boolean;
  nullable?: boolean;
  elements?: string;
  /** Creation stamp; part of the index dbi name so a dropped and re-created attribute never sees old entries. */
  created?: number;
  /** @computed: the `from` expression ('' = supplied by setComputedAttribute); the value is never stored. */
  computed?: string;
  /** @computed(version): a changed version rebuilds the index of an indexed computed attribute. */
  computed_version?: number;
  /** @expiresAt: the attribute holds the record's expiry time (epoch ms, Date or ISO string; spec §3.8). */
  expires_at?: boolean;
}

export interface TableDef {
  database: string;
  name: string;
  primaryKey: string;
  attributes: AttributeDef[];
  schemaDefined: boolean;
  audit: boolean;
  /** Seconds after its write a record goes stale (spec §3.8). */
  expiration?: number;
  /** Seconds after expiry a record is removed (default 0). */
  eviction?: number;
  /** Seconds between removal sweeps (default (expiration + eviction) / 4). */
  scanInterval?: number;
  /**
   * Records carry their version (the writing transaction's time) in the primary store (lmdb-js useVersions). Set on
   * every table; tables stored before versions existed are migrated when their database is opened (database.ts).
   */
  versioned?: boolean;
  /** @sealed in schema.graphql: undeclared properties are refused (spec §3.5). */
  sealed?: boolean;
  /** Creation stamp; part of the dbi names (see AttributeDef.created). */
  created: number;
}

export const CREATED_TIME = '__createdtime__';
export const UPDATED_TIME = '__updatedtime__';

export type Comparator =
  | 'equals' | 'not_equal' | 'contains' | 'starts_with' | 'ends_with'
  | 'greater_than' | 'greater_than_equal' | 'less_than' | 'less_than_equal' | 'between';

export interface Condition { attribute: string; comparator: Comparator; value: unknown }
export interface ConditionGroup { operator: 'and' | 'or'; conditions: Array<Condition | ConditionGroup> }
export interface SortSpec { attribute: string; descending?: boolean; next?: SortSpec }

export interface SearchOptions {
  limit?: number;
  offset?: number;
  sort?: SortSpec;
  /** Reverse the natural order (search_by_value `desc`). */
  reverse?: boolean;
  /** Drop records for which this is false before offset and limit count them. */
  filter?: (rec: Rec) => boolean;
  /** Also yield records that are expired but not yet removed (hidden by default on tables that hide them). */
  includeExpired?: boolean;
}

export type WriteKind = 'insert' | 'update' | 'upsert' | 'delete' | 'put' | 'patch' | 'message';

export interface AuditEntry {
  table: string;
  operation: WriteKind;
  user?: string;
  id: Key;
  timestamp: number;
  record?: Rec;
}

export function isGroup(c: Condition | ConditionGroup): c is ConditionGroup {
  return Array.isArray((c as ConditionGroup).conditions);
}
