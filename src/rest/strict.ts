/**
 * The strict "not indexed" rule (spec §4.5), on for an application with `rest: {strictIndexing: true}`: a search
 * must be drivable by an index, otherwise it is refused with Harper's messages instead of scanning the table.
 * A condition on an indexed attribute (or the primary key) with an index-friendly comparator drives the search;
 * in an AND group one such condition suffices (the rest filter what it finds); an OR group needs every branch.
 */
import { weftError } from '../errors/index.js';
import type { Comparator, Condition, ConditionGroup, SortSpec, Table } from '../storage/index.js';

const INDEXABLE = new Set<Comparator>(['equals', 'less_than', 'less_than_equal', 'greater_than', 'greater_than_equal', 'starts_with', 'between'] as Comparator[]);

function indexed(table: Table, attr: string): boolean {
  return attr === table.primaryKey || table.indexes.has(attr);
}

function isGroup(n: Condition | ConditionGroup): n is ConditionGroup {
  return (n as ConditionGroup).operator !== undefined;
}

function assisted(table: Table, n: Condition | ConditionGroup): boolean {
  if (!isGroup(n)) return indexed(table, n.attribute) && INDEXABLE.has(n.comparator);
  if (n.operator === 'and') return n.conditions.some((c) => assisted(table, c));
  return n.conditions.every((c) => assisted(table, c));
}

/** Throws the error Harper gives for the first condition that can not be searched by an index. */
function refuse(table: Table, n: Condition | ConditionGroup): void {
  if (!isGroup(n)) {
    if (!indexed(table, n.attribute)) throw weftError('REST_NOT_INDEXED', n.attribute);
    if (!INDEXABLE.has(n.comparator)) throw Object.assign(weftError('REST_NEEDS_INDEX', n.comparator, n.attribute), { errorClass: 'ClientError' });
    return;
  }
  if (assisted(table, n)) return;
  if (n.operator === 'or') { for (const c of n.conditions) refuse(table, c); return; }
  // an AND with nothing to drive it: an unindexed attribute is the first complaint, then a comparator
  const plain = n.conditions.filter((c): c is Condition => !isGroup(c));
  const unindexed = plain.find((c) => !indexed(table, c.attribute));
  if (unindexed) refuse(table, unindexed);
  for (const c of n.conditions) refuse(table, c);
}

export function checkIndexed(table: Table, tree: Condition | ConditionGroup | undefined, sort: SortSpec | undefined): void {
  if (tree) { refuse(table, tree); return; }
  if (sort && !indexed(table, sort.attribute)) throw weftError('REST_SORT_NOT_INDEXED', sort.attribute);
}
