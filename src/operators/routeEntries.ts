// Routing a durable queue's entries: each becomes a delivery or a dead letter
// with its reason, so that one bad entry never stops the queue behind it.
import { map } from 'rxjs';
import type { OperatorFunction } from 'rxjs';

/** What a parser makes of an entry: the message, or why it cannot be delivered. */
export type Parsed<M> =
  { readonly ok: true; readonly value: M } | { readonly ok: false; readonly reason: string };

export type Routed<E, M> =
  | { readonly kind: 'deliver'; readonly entry: E; readonly message: M }
  | { readonly kind: 'dead'; readonly entry: E; readonly reason: string };

/**
 * An entry handed out more than `maxDeliveries` times was never acknowledged
 * (each try failed, or killed its consumer): it goes to the dead letters unread.
 * A parser that throws makes a dead letter too, rather than an error.
 */
export function routeEntries<E extends { readonly deliveries: number }, M>(
  parse: (entry: E) => Parsed<M>,
  options: { readonly maxDeliveries: number },
): OperatorFunction<E, Routed<E, M>> {
  const { maxDeliveries } = options;
  return map((entry): Routed<E, M> => {
    if (entry.deliveries > maxDeliveries)
      return { kind: 'dead', entry, reason: `failed ${maxDeliveries} deliveries` };
    let parsed: Parsed<M>;
    try {
      parsed = parse(entry);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return { kind: 'dead', entry, reason: `could not be read: ${message}` };
    }
    return parsed.ok
      ? { kind: 'deliver', entry, message: parsed.value }
      : { kind: 'dead', entry, reason: parsed.reason };
  });
}
