// The site streams' wire format (SPEC §3, §5): messages `{site, topic, data}`
// as producers enqueue them (XADD fields, or a POST body), as clients receive
// them (the object with the entry's `id`, as JSON text encoded once per
// message), and the one action a client sends, `updatesubscribersite`.
import type { Parsed } from '../../operators/routeEntries.js';
import { quoted } from '../controlFrames.js';

/** A message on its way to a site's clients. */
export interface SiteMessage {
  readonly site: string;
  readonly topic: string;
  /** The queue entry's id: its position, which a client resumes from (`lastEventId`). */
  readonly id: string;
  /** `{"site","topic","data","id"}` as JSON text: what every client of the site is sent. */
  readonly frame: string;
}

/** A message with its bytes, made once for all of its site's topics (and every client of them). */
export interface Outgoing extends SiteMessage {
  readonly bytes: Buffer;
}

export const outgoing = (m: SiteMessage): Outgoing => ({ ...m, bytes: Buffer.from(m.frame) });

const SITE = /^[A-Za-z0-9_.-]{1,64}$/;
const TOPIC = /^[A-Za-z0-9_.:-]{1,64}$/;

/** Why a site name is refused, or undefined for a good one. */
export function siteProblem(site: unknown, field = 'site'): string | undefined {
  if (typeof site !== 'string' || site === '') return `${field} must be a non-empty string`;
  if (!SITE.test(site)) return `${field} must be 1 to 64 letters, digits and _ . -`;
  return undefined;
}

/** Why a topic is refused, or undefined for a good one. */
export function topicProblem(topic: unknown, field = 'topic'): string | undefined {
  if (typeof topic !== 'string' || topic === '') return `${field} must be a non-empty string`;
  if (!TOPIC.test(topic)) return `${field} must be 1 to 64 letters, digits and _ . : -`;
  return undefined;
}

/**
 * A client's topic filter, `a,b` or `["a","b"]`: the topics, undefined for
 * none (every topic), or why it is refused.
 */
export function readTopics(
  value: unknown,
  maxTopics: number,
): { readonly topics: readonly string[] | undefined } | { readonly problem: string } {
  if (value === undefined || value === null || value === '') return { topics: undefined };
  const list = typeof value === 'string' ? value.split(',').map((t) => t.trim()) : value;
  if (!Array.isArray(list)) return { problem: 'topics must be a list: a,b or ["a","b"]' };
  if (list.length > maxTopics) return { problem: `at most ${maxTopics} topics` };
  for (const topic of list) {
    const problem = topicProblem(topic, 'each of topics');
    if (problem) return { problem };
  }
  return { topics: [...new Set(list as string[])] };
}

/** The frame a client receives; `data` is JSON text already checked, `id` the entry's id. */
export function siteFrame(site: string, topic: string, data: string, id: string): string {
  return `{"site":${JSON.stringify(site)},"topic":${JSON.stringify(topic)},"data":${data},"id":${JSON.stringify(id)}}`;
}

// Site and topic names never need escaping in JSON (see SITE and TOPIC), so a
// frame's topic is read off its start, without parsing the data after it.
const FRAME_TOPIC = /^\{"site":"[^"]*","topic":"([^"]*)"/;

/** The topic of a frame made by siteFrame (one kept in the site history). */
export function frameTopic(frame: string): string | undefined {
  return FRAME_TOPIC.exec(frame)?.[1];
}

/** Reads a queue entry's fields (`site`, `topic`, `data` as JSON text) under its id. */
export function parseEntry(
  fields: Readonly<Record<string, string>>,
  maxBytes: number,
  id: string,
): Parsed<SiteMessage> {
  let bytes = 0;
  for (const [name, value] of Object.entries(fields))
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value);
  if (bytes > maxBytes) return { ok: false, reason: `larger than ${maxBytes} bytes` };
  const { site, topic, data } = fields;
  const problem =
    siteProblem(site) ??
    topicProblem(topic) ??
    (data === undefined ? 'data is missing' : undefined);
  if (problem) return { ok: false, reason: problem };
  try {
    JSON.parse(data as string);
  } catch {
    return { ok: false, reason: 'data must be JSON text' };
  }
  const message = { site: site as string, topic: topic as string, id };
  return {
    ok: true,
    value: { ...message, frame: siteFrame(message.site, message.topic, data as string, id) },
  };
}

/** Reads a POST body: the entry's fields to enqueue, or why it is refused (naming the field). */
export function bodyFields(
  body: unknown,
): { readonly fields: Record<string, string> } | { readonly problem: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { problem: 'the body must be a JSON object {"site","topic","data"}' };
  const { site, topic, data } = body as Record<string, unknown>;
  const problem =
    siteProblem(site) ??
    topicProblem(topic) ??
    (data === undefined ? 'data is missing (any JSON value)' : undefined);
  if (problem) return { problem };
  let text: string;
  try {
    text = JSON.stringify(data);
  } catch {
    // JSON.parse takes nesting that JSON.stringify cannot write back (its stack).
    return { problem: 'data is nested too deeply' };
  }
  return { fields: { site: site as string, topic: topic as string, data: text } };
}

/** A client's switch of site (and, optionally, of topics). */
export interface SiteAction {
  readonly site: string;
  /** Present: the new filter (undefined: every topic); absent: the filter is kept. */
  readonly topics?: readonly string[] | undefined;
}

/** Reads a client's text frame: the action, or the control error it gets. */
export function parseAction(
  text: string,
  maxTopics: number,
): { readonly action: SiteAction } | { readonly error: string } {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return { error: 'a frame must be JSON' };
  }
  if (typeof frame !== 'object' || frame === null || Array.isArray(frame))
    return { error: 'a frame must be a JSON object' };
  const { action, site } = frame as Record<string, unknown>;
  if (action !== 'updatesubscribersite')
    return {
      error:
        action === undefined
          ? 'a frame needs an "action": updatesubscribersite'
          : `unknown action ${quoted(action)}: expected updatesubscribersite`,
    };
  const problem = siteProblem(site);
  if (problem) return { error: problem };
  if (!('topics' in frame)) return { action: { site: site as string } };
  const topics = readTopics(frame.topics, maxTopics);
  if ('problem' in topics) return { error: topics.problem };
  return { action: { site: site as string, topics: topics.topics } };
}
