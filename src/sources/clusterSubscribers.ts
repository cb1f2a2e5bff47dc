// The subscriber connection a Redis Cluster client carries a channel on: the one
// node connection of classic pub/sub, or the sharded subscriber of the
// channel's slot. ioredis keeps both private; RedisPubSub needs them for a PING
// that follows every message already on its way there (synced()). The test
// test/e2e/pubsubCluster.test.ts pins these fields, so an ioredis
// upgrade that moves them fails loudly there.
import type { Cluster, Redis } from 'ioredis';
import { keySlot } from './keySlot.js';

export { keySlot as slotOf };

interface ClusterInternals {
  readonly subscriber?: { getInstance(): Redis | null | undefined };
  readonly shardedSubscribers?: {
    getResponsibleSubscriber(slot: number): { getInstance(): Redis | null } | undefined;
  };
}

/** The classic subscriber connection, or the sharded one of `shardedChannel`'s slot. */
export function clusterSubscriberFor(cluster: Cluster, shardedChannel?: string): Redis | undefined {
  const internals = cluster as unknown as ClusterInternals;
  if (shardedChannel === undefined) return internals.subscriber?.getInstance() ?? undefined;
  return (
    internals.shardedSubscribers
      ?.getResponsibleSubscriber(keySlot(shardedChannel))
      ?.getInstance() ?? undefined
  );
}
