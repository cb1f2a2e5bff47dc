// The emojitracker Streaming API's paths: /subscribe/raw, /subscribe/eps,
// /subscribe/details/:id and /subscribe/kiosk_interaction, each resolved to its
// family and topic, with the legacy forced refresh when it is on.
import { StreamerError } from '../../core/errors.js';
import type { StreamResolver } from '../../transports/sse/StreamRoutes.js';
import type { SseStream } from '../../transports/sse/SseTransport.js';
import { sseRetry } from '../../transports/sse/sseEncode.js';
import { cleanupTokenOf } from './cleanup.js';
import { validateEmojiId } from './emojiId.js';
import type { CleanupOwners } from './cleanup.js';
import type { EmojitrackConfig } from './config.js';

export const EMOJITRACK_PREFIX = '/subscribe/';
const DETAILS_PREFIX = '/subscribe/details/';

function disabled(path: string, variable: string): never {
  throw new StreamerError(
    'RXS_ERR_DISABLED',
    `${path} is disabled on this server (set ${variable}=true to enable it)`,
    404,
  );
}

/** What forced refresh adds to a stream of each kind; nothing when it is off. */
function refreshOptions(config: EmojitrackConfig): Record<'score' | 'detail', Partial<SseStream>> {
  if (!config.sseForceRefresh) return { score: {}, detail: {} };
  const headers = { 'X-Sse-Cleanup-Requested': 'true' };
  return {
    score: { preamble: sseRetry(config.sseRetryMs), headers, maxAgeMs: config.sseMaxAgeMs },
    detail: {
      preamble: sseRetry(config.sseDetailRetryMs),
      headers,
      maxAgeMs: config.sseDetailMaxAgeMs,
    },
  };
}

/**
 * Resolves the endpoints' paths to their streams; add it under EMOJITRACK_PREFIX.
 * A stream opened with `?cleanup=<token>` is its owner's to close (see cleanup.ts).
 */
export function emojitrackStreams(config: EmojitrackConfig, owners: CleanupOwners): StreamResolver {
  const refresh = refreshOptions(config);
  const resolve = streamOf(config, refresh);
  return (request) => {
    const stream = resolve(request.path);
    if (!stream) return undefined;
    const token = cleanupTokenOf(request);
    if (token === undefined) return stream;
    return { ...stream, opened: (connection) => owners.claim(token, connection) };
  };
}

function streamOf(
  config: EmojitrackConfig,
  refresh: Record<'score' | 'detail', Partial<SseStream>>,
): (path: string) => SseStream | undefined {
  return (path) => {
    switch (path) {
      case '/subscribe/eps':
        return { ...refresh.score, family: 'eps', namespace: '/eps' };
      case '/subscribe/raw':
        if (!config.enableRawStream) disabled(path, 'ENABLE_RAW_STREAM');
        return { ...refresh.score, family: 'raw', namespace: '/raw' };
      case '/subscribe/kiosk_interaction':
        if (!config.enableKioskInteractionStream) {
          disabled(path, 'ENABLE_KIOSK_INTERACTION_STREAM');
        }
        return { ...refresh.score, family: 'kiosk', namespace: '/kiosk_interaction' };
    }
    if (!path.startsWith(DETAILS_PREFIX)) return undefined;
    const rawId = path.slice(DETAILS_PREFIX.length);
    if (rawId === '' || rawId.includes('/')) return undefined;
    const id = validateEmojiId(rawId);
    return { ...refresh.detail, family: 'details', topic: id, namespace: `/details/${id}` };
  };
}
