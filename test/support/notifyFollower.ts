// A notification stream client that comes back as a browser's EventSource does:
// when the stream ends it reconnects after the last `retry:` it was given, with
// Last-Event-ID, and keeps the events of all its connections in one list. For
// tests where the server ends streams on purpose (a failover, messages lost on
// the way) and the client is expected to recover.
import { openNotify } from './notify.js';
import type { NotifyEvent, NotifyReader } from './notify.js';

export interface NotifyFollower {
  /** Every event of every connection so far, with the time it arrived. */
  readonly events: readonly { readonly at: number; readonly event: NotifyEvent }[];
  /** Each connection's HTTP status, in order (200s, and whatever a reconnect got). */
  readonly statuses: readonly number[];
  /** The connection open now, or last. */
  current(): NotifyReader;
  close(): void;
}

/** EventSource's own delay before the server has sent a `retry:`. */
const DEFAULT_RETRY_MS = 3_000;

export async function followNotify(
  url: string,
  headers: Record<string, string> = {},
): Promise<NotifyFollower> {
  const events: { at: number; event: NotifyEvent }[] = [];
  const statuses: number[] = [];
  let lastId: string | undefined;
  let retryMs = DEFAULT_RETRY_MS;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;

  const open = async (): Promise<NotifyReader> => {
    const reader = await openNotify(url, {
      headers: lastId === undefined ? headers : { ...headers, 'Last-Event-ID': lastId },
      onEvent: (event) => {
        events.push({ at: Date.now(), event });
        if (event.id !== undefined) lastId = event.id;
        if (event.retry !== undefined) retryMs = Number(event.retry);
      },
    });
    statuses.push(reader.status);
    reader.res.once('close', later);
    return reader;
  };
  function later(): void {
    if (closed) return;
    timer = setTimeout(() => {
      open().then(
        (reader) => {
          current = reader;
          // Closed while it was connecting.
          if (closed) reader.close();
        },
        () => later(),
      );
    }, retryMs);
  }

  let current = await open();
  return {
    events,
    statuses,
    current: () => current,
    close() {
      closed = true;
      clearTimeout(timer);
      current.close();
    },
  };
}
