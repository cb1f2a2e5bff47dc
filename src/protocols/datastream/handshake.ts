// What a site-stream client asks for when it connects (the query of its
// WebSocket or SockJS URL): its site, optionally some of its topics, and the
// id of the last message it got before it reconnected (`lastEventId`), or why
// the handshake is refused (a 400 with a JSON body).
import { StreamerError } from '../../core/errors.js';
import { isEntryId } from '../../sources/SiteHistory.js';
import { quoted } from '../controlFrames.js';
import { readTopics, siteProblem } from './wire.js';
import type { SiteAction } from './wire.js';

/** What a request asks for: its site (and topics), and the entry it resumes after. */
export interface Handshake extends SiteAction {
  readonly lastEventId: string | undefined;
}

const refused = (message: string) => new StreamerError('RXS_ERR_BAD_REQUEST', message, 400);

export function handshake(query: URLSearchParams, maxTopics: number): Handshake | StreamerError {
  const site = query.get('site') ?? undefined;
  const problem = siteProblem(site);
  if (problem || site === undefined) return refused(`?site=<site> is required: ${problem}`);
  const topics = readTopics(query.get('topics') ?? undefined, maxTopics);
  if ('problem' in topics) return refused(topics.problem);
  const lastEventId = query.get('lastEventId') ?? undefined;
  // Checked here, as Redis would refuse it in the recovery read.
  if (lastEventId !== undefined && !isEntryId(lastEventId))
    return refused(
      `lastEventId must be the id of a message received, <ms>-<seq> (got ${quoted(lastEventId)})`,
    );
  return { site, topics: topics.topics, lastEventId };
}
