// Type-checked with the project (npm run typecheck), never run: the site stream
// browser client's declarations (public/clients/datastream.d.ts) as a TypeScript user meets them.
import { connect } from '../../public/clients/datastream.js';
import type {
  ConnectionState,
  DatastreamClient,
  Recovered,
  SiteMessage,
} from '../../public/clients/datastream.js';

export function usage(saved: string | undefined): DatastreamClient {
  const client = connect('/datastream', {
    site: 'mrc',
    topics: ['weather'],
    minDelayMs: 250,
    ...(saved === undefined ? {} : { lastEventId: saved }),
  });
  client.on('message', ({ site, topic, data, id }: SiteMessage) =>
    console.log(site, topic, data, id.split('-')),
  );
  client.on('control', ({ content, error, recovered }) =>
    console.log(content, error, recovered === false),
  );
  // Not given all it missed: load the site's state again.
  client.on('recovered', ({ recovered }: Recovered) => recovered || client.switchSite('mrc'));
  client.on('state', (state: ConnectionState) => state === 'closed' && console.log('done'));
  const resumeFrom: string | undefined = client.lastEventId;
  if (resumeFrom === undefined) client.switchSite('sro', null);
  // @ts-expect-error: an event the client does not have
  client.on('nonsense', () => undefined);
  return client;
}
