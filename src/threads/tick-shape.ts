/**
 * Keeps the shape of node's nextTick queue entries alive for the life of the thread.
 *
 * `process.nextTick` builds each queue entry as `{ [async_id_symbol]: id, [trigger_async_id_symbol]: t, callback,
 * args }`. V8 (Node 20) records the hidden class ("map") of a literal with computed keys in its feedback weakly.
 * When a full GC runs while no entry is alive, the maps are collected, the next entry gets new ones, the feedback
 * no longer matches and turns megamorphic for good: from then on every nextTick (several per HTTP request) defines
 * those two properties through the V8 runtime (Runtime_DefineKeyedOwnPropertyInLiteral). In a worker this happened
 * after every bulk load of the benchmark and cost a quarter of a hello-world request's CPU (27 us instead of 20).
 * Holding one entry keeps its maps, and the feedback stays monomorphic. The entry is only reachable through an
 * async hook's `init`, so one is switched on for the single nextTick below.
 */
import { createHook } from 'node:async_hooks';

let pinned: object | undefined;

export function pinTickObjectShape(): object | undefined {
  if (pinned) return pinned;
  const hook = createHook({
    init(_asyncId, type, _triggerAsyncId, resource) {
      if (type === 'TickObject' && !pinned) pinned = resource as object;
    },
  });
  hook.enable();
  try {
    process.nextTick(noop);
  } finally {
    hook.disable();
  }
  return pinned;
}

function noop(): void {}
